#!/usr/bin/env python3
"""Compare glassbox's tokenizers with Hugging Face `tokenizers`, line by line.

The reference tokenizer is built from the SAME vocabulary as ours:
  smollm  BPE from the GGUF's tokens/merges + Digits(individual) + ByteLevel
  gpt2    the same vocabulary with the plain GPT-2 ByteLevel regex
  llama3  the same vocabulary split by the Llama 3 regex (ignore_merges)
  qwen2   the same vocabulary split by the Qwen2 regex
  spm     a small Llama-2-style tokenizer (byte_fallback BPE, "▁" normalizer)
          trained here on the corpus; ours reads it both as tokenizer.json
          and as a vocabulary-only GGUF with scores and token types
With --tokenizer-json, the reference is loaded from that file and ours reads
the same file. Our ids come from `glassbox-cli tokenize --lines`.

Prints "N/M lines identical" per mode; exits non-zero on any mismatch.

Usage:
  scripts/compare_tokenizer.py [--mode smollm|gpt2|llama3|qwen2|spm|all]
      [--model GGUF] [--corpus FILE] [--cli PATH] [--tokenizer-json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GPT2_REGEX = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPACE = "\u2581"


def read_corpus(path):
    with open(path, encoding="utf-8", newline="") as fh:
        raw = fh.read().split("\n")
    return [json.loads(line) for line in raw if line.strip(" \t\r")]


def gguf_vocab(path):
    from gguf import GGUFReader

    reader = GGUFReader(path)

    def strings(key):
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    tokens = strings("tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ", 1)) for m in strings("tokenizer.ggml.merges")]
    types = [1] * len(tokens)
    if "tokenizer.ggml.token_type" in reader.fields:
        field = reader.fields["tokenizer.ggml.token_type"]
        types = [int(field.parts[i][0]) for i in field.data]
    return tokens, merges, types


def bpe_reference(model_path, mode):
    tokens, merges, types = gguf_vocab(model_path)
    vocab = {t: i for i, t in reversed(list(enumerate(tokens)))}
    bpe = models.BPE(vocab=vocab, merges=merges, ignore_merges=(mode == "llama3"))
    tok = Tokenizer(bpe)
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    no_regex = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    if mode == "smollm":
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
    elif mode == "gpt2":
        tok.pre_tokenizer = byte_level
    else:
        regex = LLAMA3_REGEX if mode == "llama3" else QWEN2_REGEX
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False), no_regex])
    tok.decoder = decoders.ByteLevel()
    specials = [t for t, ty in zip(tokens, types) if ty == 3]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return tok


def spm_vocab(lines, vocab_size=3000):
    """A Llama-2-style vocabulary: <unk> <s> </s>, 256 byte tokens, then
    pieces learned by BPE on the corpus, scored by learning order."""
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    trainer_tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    # Pieces do not span words, as with SentencePiece's whitespace splitting.
    trainer_tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials + byte_tokens,
                                  limit_alphabet=400, show_progress=False)
    trainer_tok.train_from_iterator(lines[:1500], trainer=trainer)
    learned = sorted(trainer_tok.get_vocab().items(), key=lambda kv: kv[1])
    pieces = [t for t, _ in learned if t not in specials and t not in byte_tokens]
    tokens = specials + byte_tokens + pieces
    scores = [0.0] * len(tokens)
    types = [2, 3, 3] + [6] * 256 + [1] * len(pieces)
    for i in range(len(specials) + 256, len(tokens)):
        scores[i] = -float(i)
    return tokens, scores, types


def spm_reference(tokens, scores, types):
    """The reference tokenizer, with every merge whose parts and result are
    tokens, ranked by the result's score (as converted Llama tokenizers do)."""
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = []
    for i, t in enumerate(tokens):
        if types[i] != 1:
            continue
        for k in range(1, len(t)):
            a, b = t[:k], t[k:]
            if a in vocab and b in vocab and types[vocab[a]] == 1 and types[vocab[b]] == 1:
                merges.append((scores[i], vocab[a], vocab[b], a, b))
    merges.sort(key=lambda m: (-m[0], m[1], m[2]))
    bpe = models.BPE(vocab=vocab, merges=[(m[3], m[4]) for m in merges], unk_token="<unk>",
                     byte_fallback=True, fuse_unk=True)
    tok = Tokenizer(bpe)
    tok.normalizer = normalizers.Sequence([normalizers.Prepend(SPACE), normalizers.Replace(" ", SPACE)])
    tok.decoder = decoders.Sequence([decoders.Replace(SPACE, " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ("<unk>", "<s>", "</s>")])
    return tok


def write_spm_gguf(path, tokens, scores, types):
    from gguf import GGUFWriter

    writer = GGUFWriter(path, "llama")
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_add_space_prefix(True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def our_ids(cli, model, corpus_path, pre=None):
    cmd = [cli, "tokenize", "-m", model, "--lines", corpus_path, "--time", "--roundtrip"]
    if pre:
        cmd += ["--pre", pre]
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8")
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    notes = [line for line in proc.stderr.splitlines() if line.startswith(("encoded", "round trip:"))]
    out = proc.stdout.split("\n")
    return [[int(x) for x in line.split()] for line in out[:-1]], "; ".join(notes)


def reference_ids(ref, lines):
    return [enc.ids for enc in ref.encode_batch(lines, add_special_tokens=False)]


def compare(name, ref, lines, ref_ids, ours_and_notes, show=5):
    ours, notes = ours_and_notes
    if len(ours) != len(lines):
        print(f"[{name}] line count differs: ours {len(ours)}, corpus {len(lines)}")
        return False
    same = 0
    shown = 0
    for i, (text, mine, theirs) in enumerate(zip(lines, ours, ref_ids)):
        if theirs == mine:
            same += 1
            continue
        if shown < show:
            shown += 1
            print(f"[{name}] line {i + 1} differs: {text[:120]!r}")
            print(f"    ours: {mine[:40]}")
            print(f"    hf:   {theirs[:40]}")
            print(f"    hf pieces: {[ref.id_to_token(t) for t in theirs[:24]]}")
    print(f"[{name}] {same}/{len(lines)} lines identical  ({notes})")
    return same == len(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="smollm", choices=["smollm", "gpt2", "llama3", "qwen2", "spm", "all"])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests", "data", "tokenizer_corpus.txt"))
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "tools", "glassbox-cli"))
    ap.add_argument("--tokenizer-json", help="compare against this tokenizer.json (ours reads it too)")
    args = ap.parse_args()
    lines = read_corpus(args.corpus)
    ok = True
    if args.tokenizer_json:
        ref = Tokenizer.from_file(args.tokenizer_json)
        ok = compare("tokenizer.json", ref, lines, reference_ids(ref, lines),
                     our_ids(args.cli, args.tokenizer_json, args.corpus))
        return 0 if ok else 1
    modes = ["smollm", "gpt2", "llama3", "qwen2", "spm"] if args.mode == "all" else [args.mode]
    with tempfile.TemporaryDirectory() as tmp:
        json_path = os.path.join(tmp, "tokenizer.json")
        for mode in modes:
            if mode == "spm":
                tokens, scores, types = spm_vocab(lines)
                ref = spm_reference(tokens, scores, types)
                gguf_path = os.path.join(tmp, "spm-vocab.gguf")
                write_spm_gguf(gguf_path, tokens, scores, types)
                theirs = reference_ids(ref, lines)
                ref.save(json_path)
                ok &= compare("spm, ours from tokenizer.json", ref, lines, theirs,
                              our_ids(args.cli, json_path, args.corpus))
                ok &= compare("spm, ours from gguf", ref, lines, theirs, our_ids(args.cli, gguf_path, args.corpus))
            else:
                ref = bpe_reference(args.model, mode)
                theirs = reference_ids(ref, lines)
                pre = None if mode == "smollm" else mode
                ok &= compare(f"{mode}, ours from gguf", ref, lines, theirs,
                              our_ids(args.cli, args.model, args.corpus, pre))
                ref.save(json_path)
                ok &= compare(f"{mode}, ours from tokenizer.json", ref, lines, theirs,
                              our_ids(args.cli, json_path, args.corpus))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
