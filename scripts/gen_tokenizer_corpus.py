#!/usr/bin/env python3
"""Generate tests/data/tokenizer_corpus.txt: varied lines for comparing our
tokenizers with Hugging Face `tokenizers`.

Format: JSON lines, one JSON string per line (so runs of spaces, tabs and
newlines survive). Every string is valid Unicode without surrogates.
The output is deterministic (fixed seed, no external data).

Usage: scripts/gen_tokenizer_corpus.py [OUTPUT]
"""
import json
import os
import random
import sys
import unicodedata

SEED = 20240611

WORDS = (
    "the of and to in is was for that with as on by at from his her they we you it this which be are "
    "have has had not but or an were their been one all would there what so up out if about who get "
    "when make can like time no just him know take people into year your good some could them see other "
    "than then now look only come its over think also back after use two how our work first well way even "
    "new want because any these give day most us model token layer attention weight matrix vector cache "
    "probability gradient sample window context prompt decoder encoder residual norm bias kernel thread "
    "queue buffer socket parser stream Glassbox SmolLM Llama Qwen GPT transformer embedding softmax "
    "quick brown fox jumps lazy dog Internationalization antidisestablishmentarianism Mississippi "
    "café naïve résumé coöperate façade jalapeño Zürich São Paulo Kraków Ångström"
).split()

NAMES = "Alice Bob Carol Dave Eve Mallory Trent Peggy Victor Walter O'Brien McDonald D'Angelo".split()

CONTRACTIONS = [
    "it's", "don't", "we're", "I've", "I'm", "you'll", "she'd", "can't", "won't", "they're", "IT'S",
    "DON'T", "We'Re", "I'VE", "YOU'LL", "He'D", "it’s", "don’t", "rock'n'roll", "'s'", "''", "'''",
    "'tis", "ma'am", "y'all", "o'clock", "'S", "'T", "'Re", "'LL", "'ſ", "don'ſ", "'\u017ft",
]

PUNCT = list("!?.,;:-_()[]{}<>@#$%^&*+=/\\|~`\"'") + [
    "...", "!!!", "?!", "—", "–", "«", "»", "“", "”", "‘", "’", "…", "¿", "¡", "§", "¶", "†", "‡",
    "•", "·", "„", "‹", "›", "©", "®", "™", "°", "±", "×", "÷", "€", "£", "¥", "₹", "₿", "¢",
]

OTHER_SCRIPTS = [
    "Der schnelle braune Fuchs springt über den faulen Hund. Größe, Maß und Straße.",
    "Le cœur a ses raisons que la raison ne connaît point. Où est l'hôtel ? C'est l'été !",
    "¿Dónde está la biblioteca? ¡Qué día tan bonito! El niño comió piña y jamón.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Καλημέρα κόσμε!",
    "नमस्ते दुनिया। यह एक परीक्षण वाक्य है, जिसमें मात्राएँ और संयुक्ताक्षर हैं: क्षत्रिय, ज्ञान।",
    "مرحبا بالعالم! هذه جملة اختبار باللغة العربية مع أرقام ١٢٣٤٥ وتشكيل: مُحَمَّد.",
    "שלום עולם! זה משפט בדיקה בעברית עם ניקוד: שָׁלוֹם.",
    "你好，世界！这是一个测试句子，包含标点符号。我们今天学习机器学习。",
    "日本語のテキスト：ひらがな、カタカナ、漢字を含みます。東京は晴れです。",
    "한국어 문장입니다. 안녕하세요, 세계! 오늘 날씨가 좋네요.",
    "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ สวัสดีครับ",
    "Tiếng Việt có nhiều dấu: Người ta thường nói rằng học, học nữa, học mãi.",
    "Türkçe: İstanbul'da ılık bir gün; ıiİI harfleri farklıdır.",
    "Polski: Zażółć gęślą jaźń. Čeština: Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Ελληνικά και English mixed with русский and 中文 in one line.",
    "ქართული ენა — Georgian script. Հայերեն — Armenian script.",
    "አማርኛ ቋንቋ — Amharic. ᏣᎳᎩ — Cherokee. ᓀᐦᐃᔭᐍᐏᐣ — Cree syllabics.",
    "தமிழ் மொழி, తెలుగు భాష, ಕನ್ನಡ, മലയാളം, বাংলা ভাষা, ગુજરાતી.",
    "Combining marks: e\u0301 a\u0300 o\u0308 n\u0303 c\u0327 and Zalgo: Z\u0351\u0352\u0353a\u0354l\u0355g\u0356o\u0357.",
    "Full-width: ＡＢＣ１２３！？ and half-width katakana: ｶﾀｶﾅ.",
    "Math: ∀x∈ℝ, ∃y: x² + y² = z²; ∑ᵢ aᵢ ≤ ∞; ½ + ¼ = ¾; Ⅻ o'clock.",
    "Mongolian: ᠮᠣᠩᠭᠣᠯ, Tibetan: བོད་ཡིག, Khmer: ភាសាខ្មែរ, Lao: ພາສາລາວ.",
]

EMOJI = [
    "😀", "😂", "🥲", "❤️", "👍", "👍🏽", "👋🏿", "🤦‍♀️", "👨‍👩‍👧‍👦", "👩‍💻", "🏳️‍🌈", "🇫🇷", "🇯🇵",
    "1️⃣", "#️⃣", "✊🏻", "🧑🏾‍🚀", "🐍", "🚀", "✨", "☕", "🫶", "👁️‍🗨️", "🧔‍♂️", "🏴‍☠️", "♾️",
]

CODE = [
    "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\n",
    "#include <iostream>\nint main() { std::cout << \"Hello, world!\" << std::endl; return 0; }",
    "const add = (a, b) => a + b;\nconsole.log(`result: ${add(2, 3)}`);",
    "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
    "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%son' ORDER BY id DESC;",
    "<div class=\"container\"><p>Hello &amp; welcome</p><br/></div>",
    "{\"key\": [1, 2.5, -3e10, true, null], \"nested\": {\"a\": \"b\"}}",
    "if [ -f ~/.bashrc ]; then source ~/.bashrc; fi && echo $HOME | grep -E '^/home'",
    "x = [i**2 for i in range(10) if i % 2 == 0]  # squares of evens",
    "class Foo(Bar):\n    \"\"\"Docstring.\"\"\"\n\n    def __init__(self):\n        super().__init__()\n        self._x = None\n",
    "template <typename T>\nconstexpr auto square(T x) noexcept -> T { return x * x; }",
    "    \t  mixed indentation\n\t\tline two\n  \n",
    "public static void main(String[] args) throws IOException {}",
    "let re = /^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@example\\.com$/i;",
    "%macro_name = load i32, ptr %p, align 4\n  ret i32 %macro_name",
    "matrix[i][j] += alpha * (x[k] - mu) / sqrt(var + 1e-5);",
    "git commit -m \"Fix: don't crash on empty input\" && git push origin main",
    "<?php echo htmlspecialchars($_GET['q'] ?? '', ENT_QUOTES); ?>",
    "\\begin{equation} E = mc^2 \\end{equation}",
    "diff --git a/x.py b/x.py\n@@ -1,3 +1,4 @@\n-old line\n+new line\n",
]

URLS = [
    "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/blob/main/tokenizer.json",
    "http://example.com/path?query=1&b=two#frag",
    "ftp://files.example.org/pub/README.txt",
    "mailto:someone@example.com",
    "user.name+tag@sub.domain.co.uk",
    "C:\\Users\\Public\\Documents\\report_2024-01-05.docx",
    "/usr/local/lib/python3.11/site-packages/numpy/__init__.py",
    "www.example.com/über/straße?q=naïve",
    "https://例え.jp/パス?q=値",
]

SPECIAL_LINES = [
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n",
    "<|im_start|>assistant\nSure — here's the answer.<|im_end|>",
    "text before<|endoftext|>text after",
    "<|endoftext|><|endoftext|>",
    "partial <|im_start and <|im_end| and |im_end|> are plain text",
    "<repo_name>glassbox<file_sep>engine/tokenizer.cpp<filename>x.py",
    " <|im_start|> spaced <|im_end|> ",
    "<|im_start|><|im_start|>user<|im_end|>",
]

WHITESPACE_UNITS = [" ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n", "\n ",
                    "\u00a0", "\u3000", "\u2003", "\u2028", "\u2029", "\u0085", "\u000b", "\u000c",
                    " \t ", "\n\n\n", "        "]

CONTROL = ["\u0000", "\u0001", "\u0004", "\u0006", "\u0013", "\u0014", "\u0016", "\u001d", "\u007f", "\u200b", "\u200d", "\ufeff", "\u00ad", "\u2060", "\u001f",
           "\u180e", "\u061c", "\u202e", "\ufffd"]


def number(rng):
    kind = rng.randrange(10)
    if kind == 0:
        return str(rng.randrange(10))
    if kind == 1:
        return str(rng.randrange(10 ** rng.randrange(1, 25)))
    if kind == 2:
        return f"{rng.uniform(-1e6, 1e6):.{rng.randrange(0, 8)}f}"
    if kind == 3:
        return f"{rng.randrange(1, 999)},{rng.randrange(1000):03d},{rng.randrange(1000):03d}"
    if kind == 4:
        return f"+1 ({rng.randrange(100, 999)}) {rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"
    if kind == 5:
        return f"{rng.randrange(1900, 2100)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    if kind == 6:
        return f"{rng.uniform(0, 1):.3e}"
    if kind == 7:
        return "".join(rng.choice("٠١٢٣٤٥٦٧٨٩") for _ in range(rng.randrange(1, 6)))
    if kind == 8:
        return "".join(rng.choice("０１２３４５６７８９²³¹½¼¾ⅠⅡⅢⅫ") for _ in range(rng.randrange(1, 5)))
    return "v" + ".".join(str(rng.randrange(20)) for _ in range(3))


def sentence(rng, n_words=None):
    n = n_words or rng.randrange(3, 18)
    words = []
    for i in range(n):
        w = rng.choice(WORDS)
        r = rng.random()
        if r < 0.08:
            w = w.capitalize()
        elif r < 0.11:
            w = w.upper()
        elif r < 0.16:
            w = rng.choice(CONTRACTIONS)
        elif r < 0.20:
            w = number(rng)
        elif r < 0.23:
            w = rng.choice(NAMES)
        words.append(w)
        if rng.random() < 0.12:
            words.append(rng.choice(PUNCT))
    s = " ".join(words)
    return s[0].upper() + s[1:] + rng.choice([".", "!", "?", "", "...", ";"])


def assigned_chars(lo, hi):
    out = []
    for cp in range(lo, hi):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if unicodedata.category(chr(cp)) in ("Cn", "Cs", "Co"):
            continue
        out.append(chr(cp))
    return out


def random_unicode_line(rng, pool):
    parts = []
    for _ in range(rng.randrange(1, 25)):
        r = rng.random()
        if r < 0.5:
            parts.append(rng.choice(pool))
        elif r < 0.7:
            parts.append(rng.choice(WHITESPACE_UNITS))
        elif r < 0.85:
            parts.append(rng.choice(WORDS))
        else:
            parts.append(number(rng))
    return "".join(parts)


def whitespace_line(rng):
    parts = []
    for _ in range(rng.randrange(1, 12)):
        r = rng.random()
        if r < 0.4:
            parts.append(rng.choice(WHITESPACE_UNITS))
        elif r < 0.7:
            parts.append(rng.choice(WORDS))
        elif r < 0.8:
            parts.append(rng.choice(PUNCT))
        elif r < 0.9:
            parts.append(number(rng))
        else:
            parts.append(rng.choice(EMOJI))
    return "".join(parts)


def emoji_line(rng):
    parts = []
    for _ in range(rng.randrange(1, 10)):
        parts.append(rng.choice(EMOJI) if rng.random() < 0.6 else rng.choice(WORDS))
        if rng.random() < 0.5:
            parts.append(rng.choice(["", " ", "  ", "\n"]))
    return "".join(parts)


def mutate(rng, text):
    """Small edits to a fixed line: cut, duplicate, join with whitespace."""
    if not text:
        return text
    a = rng.randrange(len(text))
    b = rng.randrange(a, len(text) + 1)
    r = rng.random()
    if r < 0.33:
        return text[a:b]
    if r < 0.66:
        return text[:a] + rng.choice(WHITESPACE_UNITS) + text[a:]
    return text[a:b] + rng.choice(PUNCT) + text[:a]


def build(rng):
    lines = []
    fixed = OTHER_SCRIPTS + CODE + URLS + SPECIAL_LINES + EMOJI + CONTRACTIONS + PUNCT
    lines += fixed
    lines += ["", " ", "  ", "\n", "\t", "a", "A", "0", "00", "000", "0000", "12345678901234567890",
              "Hello world", " Hello world", "Hello  world", "Hello world ", "hello\nworld", "\n\n\nx",
              "x\n\n\n", "  x  ", "'s", " 's", "it 's", "a'b'c", "I'm, you're; he'd...", "3.14159",
              "$100.00", "100%", "-42", "1e-9", "0x1F", "0b1010", "a1b2c3", "abc123def456"]
    lines += [c for c in CONTROL]
    lines += [w + c + w for c in CONTROL for w in ("ab", " 1")]
    for _ in range(700):
        lines.append(sentence(rng))
    for _ in range(150):
        lines.append(" ".join(sentence(rng) for _ in range(rng.randrange(2, 6))))
    for _ in range(200):
        lines.append(whitespace_line(rng))
    for _ in range(150):
        lines.append(emoji_line(rng))
    for _ in range(200):
        lines.append(" ".join(number(rng) for _ in range(rng.randrange(1, 6))))
    for _ in range(250):
        lines.append(mutate(rng, rng.choice(fixed)))
    bmp = assigned_chars(0x00A0, 0x3400) + assigned_chars(0xA000, 0xFFFE)
    astral = assigned_chars(0x10000, 0x10500) + assigned_chars(0x1F300, 0x1FAFF)
    for _ in range(250):
        lines.append(random_unicode_line(rng, bmp))
    for _ in range(80):
        lines.append(random_unicode_line(rng, astral))
    for _ in range(100):
        code = rng.choice(CODE)
        lines.append(code.replace("    ", rng.choice(["\t", "  ", "    ", "        "])))
    for _ in range(60):
        lines.append(rng.choice(SPECIAL_LINES).replace("Hi!", sentence(rng)))
    # A few long lines: long words, long digit runs, long whitespace runs.
    lines.append("a" * 3000)
    lines.append("ab" * 1500)
    lines.append("1234567890" * 200)
    lines.append(" " * 1000 + "x")
    lines.append("\n" * 500)
    lines.append("!?" * 700)
    lines.append(" ".join(sentence(rng) for _ in range(80)))
    return lines


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "data", "tokenizer_corpus.txt")
    rng = random.Random(SEED)
    lines = build(rng)
    with open(out, "w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"wrote {len(lines)} lines to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
