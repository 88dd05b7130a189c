"""The dialogue stream: speech (Whisper via faster-whisper) and burned-in subtitles (RapidOCR), as timed
segments in one transcript, with their links and agreement, plus WebVTT/SRT exports."""
