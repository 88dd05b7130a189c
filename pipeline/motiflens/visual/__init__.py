"""The visual stream: CLIP zero-shot presence of taxonomy symbols on square tiles of sampled frames.

torch and open_clip are imported only inside the modules that run a model (backend, engine users), never
when `motiflens` itself is imported.
"""
