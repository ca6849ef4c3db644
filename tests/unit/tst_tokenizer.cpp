// Tokenizers on small synthetic vocabularies: BPE merge order and ties,
// pre-tokenizer splits (checked against Hugging Face tokenizers), special
// tokens with parsing on and off, bos/eos, Spm scores and <0xNN> byte
// fallback, decode round trips over arbitrary bytes, streaming decode,
// vocabulary loaders (GGUF, tokenizer.json) and rejection of hostile data.
#include <QtTest>

#include <random>

#include "engine/gguf_file.h"
#include "engine/gguf_writer.h"
#include "engine/pretokenizer.h"
#include "engine/tokenizer.h"
#include "engine/unicode_data.h"
#include "engine/vocab.h"

using namespace glassbox::engine;

namespace {

using Ids = std::vector<int32_t>;
using Merge = std::pair<std::string, std::string>;

// Bytes as GPT-2 byte-level characters (printable bytes map to themselves).
std::string byteLevel(std::string_view bytes) {
    std::string out;
    for (char c : bytes) {
        const auto b = static_cast<uint8_t>(c);
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        uint32_t cp = b;
        if (!printable) {
            uint32_t n = 0;
            for (uint32_t k = 0; k < b; ++k) {
                const bool p = (k >= 0x21 && k <= 0x7E) || (k >= 0xA1 && k <= 0xAC) || k >= 0xAE;
                if (!p) ++n;
            }
            cp = 256 + n;
        }
        appendUtf8(out, cp);
    }
    return out;
}

// Byte-level BPE vocabulary: ids 0..255 are the bytes, then one token per
// merge result (raw bytes given), then the control tokens.
VocabData bpeVocab(const std::vector<Merge>& merges, const std::vector<std::string>& controls = {}) {
    VocabData v;
    v.model = VocabModel::Bpe;
    v.pre = "gpt2";
    for (int b = 0; b < 256; ++b) v.tokens.push_back(byteLevel(std::string(1, char(b))));
    for (const auto& [a, b] : merges) {
        const std::string merged = byteLevel(a + b);
        if (std::find(v.tokens.begin(), v.tokens.end(), merged) == v.tokens.end()) v.tokens.push_back(merged);
        v.merges.emplace_back(byteLevel(a), byteLevel(b));
    }
    v.types.assign(v.tokens.size(), TokenType::Normal);
    for (const auto& c : controls) {
        v.tokens.push_back(c);
        v.types.push_back(TokenType::Control);
    }
    return v;
}

int32_t idOf(const Tokenizer& t, std::string_view rawBytes) {
    return t.tokenId(byteLevel(rawBytes)).value_or(-100);
}

Tokenizer make(VocabData v) {
    auto t = Tokenizer::create(std::move(v));
    if (!t) qFatal("%s", t.error().toString().c_str());
    return std::move(t).value();
}

// Llama-2 style vocabulary: <unk> <s> </s>, 256 byte tokens (ids 3..258),
// then scored pieces.
VocabData spmVocab(const std::vector<std::pair<std::string, float>>& pieces, bool byteTokens = true) {
    VocabData v;
    v.model = VocabModel::Spm;
    v.tokens = {"<unk>", "<s>", "</s>"};
    v.types = {TokenType::Unknown, TokenType::Control, TokenType::Control};
    v.scores = {0, 0, 0};
    if (byteTokens) {
        for (int b = 0; b < 256; ++b) {
            char name[8];
            std::snprintf(name, sizeof name, "<0x%02X>", b);
            v.tokens.push_back(name);
            v.types.push_back(TokenType::Byte);
            v.scores.push_back(0);
        }
    }
    for (const auto& [p, s] : pieces) {
        v.tokens.push_back(p);
        v.types.push_back(TokenType::Normal);
        v.scores.push_back(s);
    }
    v.unk = 0, v.bos = 1, v.eos = 2;
    v.addBos = true;
    v.addSpacePrefix = true;
    return v;
}

const std::vector<std::pair<std::string, float>> kHelloPieces = {
    {"\xE2\x96\x81", -1}, {"h", -2}, {"e", -3}, {"l", -4}, {"o", -5}, {"w", -6}, {"r", -7}, {"d", -8},
    {"he", -10}, {"ll", -11}, {"hell", -12}, {"hello", -13}, {"\xE2\x96\x81hello", -14},
    {"\xE2\x96\x81w", -15}, {"or", -16}, {"ld", -17}, {"\xE2\x96\x81wor", -18}, {"\xE2\x96\x81world", -19},
};

std::vector<std::string> pieces(PreTokenizerKind kind, std::string_view text) {
    std::vector<TextSpan> spans;
    preTokenize(kind, text, spans);
    std::vector<std::string> out;
    for (const auto& s : spans) out.emplace_back(text.substr(s.begin, s.end - s.begin));
    return out;
}

using Pieces = std::vector<std::string>;

}  // namespace

class TestTokenizer : public QObject {
    Q_OBJECT

private slots:
    void preTokenizerSplits_data();
    void preTokenizerSplits();
    void preTokenizerCoversInvalidUtf8();
    void bpeMergeOrder();
    void bpeTiesGoLeftmost();
    void bpeIgnoreMerges();
    void specialTokens();
    void addBosEos();
    void bpeRoundTripArbitraryBytes();
    void spmMerges();
    void spmByteFallbackAndUnk();
    void spmSpecialAndPrefix();
    void spmRoundTrip();
    void streamDecoderHoldsIncompleteUtf8();
    void endOfGeneration();
    void outOfRangeIdsAreHarmless();
    void hostileVocabRejected();
    void ggufLoader();
    void tokenizerJsonByteLevel();
    void tokenizerJsonLlama2Style();
    void tokenizerJsonRejected();
};

void TestTokenizer::preTokenizerSplits_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("expected");
    auto row = [](const char* name, PreTokenizerKind k, const char* text, const QStringList& exp) {
        QTest::newRow(name) << int(k) << QString::fromUtf8(text) << exp;
    };
    using K = PreTokenizerKind;
    // Expected splits were produced by Hugging Face tokenizers' Split(Regex) pre-tokenizer.
    row("gpt2 words", K::Gpt2, "Hello world", {"Hello", " world"});
    row("gpt2 spaces", K::Gpt2, "a  b", {"a", " ", " b"});
    row("gpt2 contractions", K::Gpt2, "it's I'M we'Re", {"it", "'s", " I", "'", "M", " we", "'", "Re"});
    row("gpt2 newlines", K::Gpt2, "x \n\n y", {"x", " \n\n", " y"});
    row("gpt2 digits", K::Gpt2, "abc123 4567", {"abc", "123", " 4567"});
    row("gpt2 tabs", K::Gpt2, "\t\tif x:\n\t\t\treturn 1",
        {"\t", "\t", "if", " x", ":", "\n\t\t", "\t", "return", " 1"});
    row("gpt2 punctuation", K::Gpt2, "hello!!! ...  ok ", {"hello", "!!!", " ...", " ", " ok", " "});
    row("gpt2 combining", K::Gpt2, "e\xCC\x81t\xC3\xA9", {"e", "\xCC\x81", "t\xC3\xA9"});
    row("gpt2 nbsp", K::Gpt2, "a\xC2\xA0" "b \xE3\x80\x80" "c", {"a", "\xC2\xA0", "b", " ", "\xE3\x80\x80", "c"});
    row("smollm digits", K::Gpt2Digits, "abc123 4567", {"abc", "1", "2", "3", " ", "4", "5", "6", "7"});
    row("smollm tail", K::Gpt2Digits, "return 1", {"return", " ", "1"});
    row("llama3 contractions", K::Llama3, "it's I'M we'Re", {"it", "'s", " I", "'M", " we", "'Re"});
    row("llama3 digits", K::Llama3, "abc123 4567", {"abc", "123", " ", "456", "7"});
    row("llama3 tabs", K::Llama3, "\t\tif x:\n\t\t\treturn 1", {"\t", "\tif", " x", ":\n", "\t\t", "\treturn", " ", "1"});
    row("llama3 crlf", K::Llama3, " \r\n\r\n  z", {" \r\n\r\n", " ", " z"});
    row("llama3 long s", K::Llama3, "'\xC5\xBF 's", {"'\xC5\xBF", " '", "s"});
    row("llama3 prefix", K::Llama3, "\xC2\xBFQu\xC3\xA9? 12345678", {"\xC2\xBFQu\xC3\xA9", "?", " ", "123", "456", "78"});
    row("qwen2 digits", K::Qwen2, "abc123 4567", {"abc", "1", "2", "3", " ", "4", "5", "6", "7"});
    row("qwen2 nbsp", K::Qwen2, "a\xC2\xA0" "b \xE3\x80\x80" "c", {"a", "\xC2\xA0" "b", " ", "\xE3\x80\x80" "c"});
}

void TestTokenizer::preTokenizerSplits() {
    QFETCH(int, kind);
    QFETCH(QString, text);
    QFETCH(QStringList, expected);
    const std::string utf8 = text.toStdString();
    QStringList got;
    for (const auto& p : pieces(PreTokenizerKind(kind), utf8)) got << QString::fromStdString(p);
    QCOMPARE(got, expected);
}

void TestTokenizer::preTokenizerCoversInvalidUtf8() {
    const std::string text = "ab\xFF\xC3 \xE2\x82 x\x80\xF0\x9F\x98";
    for (auto kind : {PreTokenizerKind::Gpt2, PreTokenizerKind::Gpt2Digits, PreTokenizerKind::Llama3,
                      PreTokenizerKind::Qwen2}) {
        std::string joined;
        for (const auto& p : pieces(kind, text)) {
            QVERIFY(!p.empty());
            joined += p;
        }
        QCOMPARE(joined, text);
    }
}

void TestTokenizer::bpeMergeOrder() {
    // "abc": with (b,c) ranked first the result is a|bc, otherwise ab|c.
    Tokenizer bcFirst = make(bpeVocab({{"b", "c"}, {"a", "b"}}));
    QCOMPARE(bcFirst.encode("abc", false, false), (Ids{'a', idOf(bcFirst, "bc")}));
    Tokenizer abFirst = make(bpeVocab({{"a", "b"}, {"b", "c"}}));
    QCOMPARE(abFirst.encode("abc", false, false), (Ids{idOf(abFirst, "ab"), 'c'}));
    // Multi-level merges inside one word, and words split by the pre-tokenizer.
    Tokenizer t = make(bpeVocab({{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {" ", "w"}, {"o", "r"},
                                 {" w", "or"}, {" wor", "ld"}, {"l", "d"}}));
    QCOMPARE(t.encode("hello world", false, false), (Ids{idOf(t, "hello"), idOf(t, " world")}));
    QCOMPARE(t.decode(t.encode("hello world", false, false)), std::string("hello world"));
    // Without the last merge, " wor" and "ld" stay apart.
    Tokenizer partial = make(bpeVocab({{" ", "w"}, {"o", "r"}, {" w", "or"}, {"l", "d"}}));
    QCOMPARE(partial.encode(" world", false, false), (Ids{idOf(partial, " wor"), idOf(partial, "ld")}));
}

void TestTokenizer::bpeTiesGoLeftmost() {
    Tokenizer t = make(bpeVocab({{"a", "a"}}));
    const int32_t aa = idOf(t, "aa");
    QCOMPARE(t.encode("aaa", false, false), (Ids{aa, 'a'}));
    QCOMPARE(t.encode("aaaa", false, false), (Ids{aa, aa}));
    QCOMPARE(t.encode("aaaaa", false, false), (Ids{aa, aa, 'a'}));
}

void TestTokenizer::bpeIgnoreMerges() {
    // "abc" is a token, but no merge sequence reaches it from a|bc.
    VocabData v = bpeVocab({{"b", "c"}, {"a", "b"}});
    v.tokens.push_back("abc");
    v.types.push_back(TokenType::Normal);
    const auto abc = int32_t(v.tokens.size() - 1);
    Tokenizer plain = make(v);
    QCOMPARE(plain.encode("abc", false, false), (Ids{'a', idOf(plain, "bc")}));
    v.ignoreMerges = true;
    Tokenizer whole = make(v);
    QCOMPARE(whole.encode("abc", false, false), (Ids{abc}));
}

void TestTokenizer::specialTokens() {
    VocabData v = bpeVocab({{"h", "i"}}, {"<|im_start|>", "<|im_end|>", "<|im"});
    v.tokens.push_back("<tool>");
    v.types.push_back(TokenType::UserDefined);
    Tokenizer t = make(v);
    const int32_t start = *t.tokenId("<|im_start|>"), end = *t.tokenId("<|im_end|>"), tool = *t.tokenId("<tool>");
    const int32_t hi = idOf(t, "hi");
    const std::string text = "<|im_start|>hi<|im_end|><tool>";
    QCOMPARE(t.encode(text, false, true), (Ids{start, hi, end, tool}));
    // Without parsing, control tokens are plain text; user-defined ones still match.
    const Ids plain = t.encode(text, false, false);
    QVERIFY(std::find(plain.begin(), plain.end(), start) == plain.end());
    QCOMPARE(plain.back(), tool);
    QCOMPARE(t.decode(plain), text);
    QCOMPARE(t.decode(t.encode(text, false, true)), text);
    QCOMPARE(t.decode(t.encode(text, false, true), true), std::string("hi<tool>"));
    // Leftmost-longest: "<|im" is a prefix of "<|im_end|>".
    QCOMPARE(t.encode("<|im_end|><|im", false, true), (Ids{end, *t.tokenId("<|im")}));
    QVERIFY(t.isControl(start));
    QVERIFY(!t.isControl(hi));
}

void TestTokenizer::addBosEos() {
    VocabData v = bpeVocab({}, {"<s>", "</s>"});
    v.bos = int32_t(v.tokens.size() - 2);
    v.eos = int32_t(v.tokens.size() - 1);
    v.addBos = true;
    v.addEos = true;
    Tokenizer t = make(v);
    QCOMPARE(t.encode("x", true, false), (Ids{v.bos, 'x', v.eos}));
    QCOMPARE(t.encode("x", false, false), (Ids{'x'}));
    QCOMPARE(t.encode("", true, false), (Ids{v.bos, v.eos}));
    QVERIFY(t.encode("", false, false).empty());
}

void TestTokenizer::bpeRoundTripArbitraryBytes() {
    Tokenizer t = make(bpeVocab({{"e", "r"}, {" ", "t"}, {"\xC3", "\xA9"}, {"t", "h"}, {" t", "he"}, {"h", "e"}}));
    std::mt19937 rng(1234);
    for (int i = 0; i < 500; ++i) {
        std::string s(rng() % 64, '\0');
        for (char& c : s) c = char(rng() % 4 == 0 ? rng() % 256 : "the er \xC3\xA9\n'1"[rng() % 12]);
        const Ids ids = t.encode(s, false, false);
        QCOMPARE(t.decode(ids), s);
    }
}

void TestTokenizer::spmMerges() {
    Tokenizer t = make(spmVocab(kHelloPieces));
    const Ids ids = t.encode("hello world", false, false);
    QCOMPARE(ids, (Ids{*t.tokenId("\xE2\x96\x81hello"), *t.tokenId("\xE2\x96\x81world")}));
    QCOMPARE(t.decode(ids), std::string("hello world"));
    QCOMPARE(t.tokenText(ids[1]), std::string(" world"));
    // Scores decide: the higher-scoring pair merges first.
    const auto spmAb = make(spmVocab({{"\xE2\x96\x81", 0}, {"a", -1}, {"b", -1}, {"c", -1}, {"ab", -2}, {"bc", -3}}));
    QCOMPARE(spmAb.encode("abc", false, false),
             (Ids{*spmAb.tokenId("\xE2\x96\x81"), *spmAb.tokenId("ab"), *spmAb.tokenId("c")}));
    const auto spmBc = make(spmVocab({{"\xE2\x96\x81", 0}, {"a", -1}, {"b", -1}, {"c", -1}, {"ab", -3}, {"bc", -2}}));
    QCOMPARE(spmBc.encode("abc", false, false),
             (Ids{*spmBc.tokenId("\xE2\x96\x81"), *spmBc.tokenId("a"), *spmBc.tokenId("bc")}));
}

void TestTokenizer::spmByteFallbackAndUnk() {
    Tokenizer t = make(spmVocab(kHelloPieces));
    // U+00E9 is not a piece: its two bytes become <0xC3> <0xA9> (ids 3 + byte).
    QCOMPARE(t.encode("\xC3\xA9", false, false), (Ids{*t.tokenId("\xE2\x96\x81"), 3 + 0xC3, 3 + 0xA9}));
    QCOMPARE(t.decode(t.encode("h\xC3\xA9", false, false)), std::string("h\xC3\xA9"));
    QCOMPARE(t.tokenText(3 + 0x0A), std::string("\n"));
    QCOMPARE(t.tokenPiece(3 + 0x0A), std::string("<0x0A>"));
    // Without byte tokens, an unknown character is one unk.
    Tokenizer noBytes = make(spmVocab(kHelloPieces, false));
    QCOMPARE(noBytes.encode("h\xC3\xA9o", false, false), (Ids{*noBytes.tokenId("\xE2\x96\x81"),
                                                               *noBytes.tokenId("h"), 0, *noBytes.tokenId("o")}));
}

void TestTokenizer::spmSpecialAndPrefix() {
    Tokenizer t = make(spmVocab(kHelloPieces));
    const int32_t hello = *t.tokenId("\xE2\x96\x81hello");
    QCOMPARE(t.encode("hello", true, false), (Ids{1, hello}));
    // A space prefix follows every special token, as in the reference.
    QCOMPARE(t.encode("<s>hello</s>hello", false, true), (Ids{1, hello, 2, hello}));
    // Unparsed, "<s>" is text: '<' 's' '>' by byte fallback.
    QCOMPARE(t.encode("<s>hello", false, false), (Ids{*t.tokenId("\xE2\x96\x81"), 3 + '<', 3 + 's', 3 + '>',
                                                     *t.tokenId("hello")}));
    QCOMPARE(t.decode(Ids{1, hello}), std::string("<s> hello"));
    QCOMPARE(t.decode(Ids{1, hello}, true), std::string("hello"));
    QVERIFY(t.encode("", false, false).empty());
}

void TestTokenizer::spmRoundTrip() {
    Tokenizer t = make(spmVocab(kHelloPieces));
    std::mt19937 rng(99);
    for (int i = 0; i < 500; ++i) {
        std::string s(rng() % 48, '\0');
        for (char& c : s) c = char(rng() % 3 == 0 ? rng() % 256 : "hello world \n"[rng() % 13]);
        if (s.find("\xE2\x96\x81") != std::string::npos) continue;  // "▁" itself is not reversible
        QCOMPARE(t.decode(t.encode(s, false, false)), s);
        QCOMPARE(t.decode(t.encode(s, true, false), true), s);
    }
}

void TestTokenizer::streamDecoderHoldsIncompleteUtf8() {
    Tokenizer t = make(spmVocab(kHelloPieces));
    const Ids ids = t.encode("h\xE2\x82\xAC\xF0\x9F\x98\x80 world", false, false);  // h€😀 world
    TokenStreamDecoder stream(t);
    std::string all;
    for (int32_t id : ids) {
        const std::string part = stream.push(id);
        QCOMPARE(completeUtf8Prefix(part), part.size());
        all += part;
    }
    all += stream.flush();
    QCOMPARE(all, t.decode(ids));
    QCOMPARE(all, std::string("h\xE2\x82\xAC\xF0\x9F\x98\x80 world"));
    // An incomplete tail is released by flush().
    stream.reset();
    QCOMPARE(stream.push(3 + 0xE2), std::string());
    QCOMPARE(stream.push(3 + 0x82), std::string());
    QCOMPARE(stream.flush(), std::string("\xE2\x82"));
    // Invalid bytes are never held back.
    QCOMPARE(stream.push(3 + 0xFF), std::string("\xFF"));
}

void TestTokenizer::endOfGeneration() {
    VocabData v = bpeVocab({}, {"<|endoftext|>", "<|im_start|>", "<|im_end|>"});
    const auto n = int32_t(v.tokens.size());
    v.eos = n - 3;
    Tokenizer t = make(v);
    QVERIFY(t.isEndOfGeneration(n - 3));
    QVERIFY(t.isEndOfGeneration(n - 1));
    QVERIFY(!t.isEndOfGeneration(n - 2));
    QVERIFY(!t.isEndOfGeneration('a'));
    QCOMPARE(t.eos(), n - 3);
}

void TestTokenizer::outOfRangeIdsAreHarmless() {
    Tokenizer t = make(bpeVocab({}));
    QCOMPARE(t.decode(Ids{-5, 'a', 1 << 30, 'b'}), std::string("ab"));
    QCOMPARE(t.tokenPiece(-1), std::string());
    QCOMPARE(t.tokenText(99999), std::string());
    QCOMPARE(t.tokenType(99999), TokenType::Undefined);
    QVERIFY(!t.isEndOfGeneration(-1));
}

void TestTokenizer::hostileVocabRejected() {
    auto expectError = [](VocabData v, ErrorCode code, const std::string& field) {
        auto r = Tokenizer::create(std::move(v));
        QVERIFY2(!r.ok(), field.c_str());
        QCOMPARE(int(r.error().code), int(code));
        QCOMPARE(r.error().field, field);
    };
    VocabData base = bpeVocab({{"a", "b"}});
    expectError(VocabData{}, ErrorCode::InvalidArgument, "tokens");
    VocabData v = base;
    v.scores = {1.0f, 2.0f};
    expectError(v, ErrorCode::InvalidArgument, "scores");
    v = base;
    v.types.pop_back();
    expectError(v, ErrorCode::InvalidArgument, "types");
    v = base;
    v.types[3] = TokenType(42);
    expectError(v, ErrorCode::InvalidArgument, "types");
    v = base;
    v.merges.emplace_back("zz", "a");
    expectError(v, ErrorCode::Malformed, "merges[1]");
    v = base;
    v.merges.emplace_back("b", "a");  // "ba" is not a token
    expectError(v, ErrorCode::Malformed, "merges[1]");
    v = base;
    v.bos = int32_t(v.tokens.size());
    expectError(v, ErrorCode::InvalidArgument, "bos");
    v = base;
    v.eos = -7;
    expectError(v, ErrorCode::InvalidArgument, "eos");
    v = base;
    v.unk = INT32_MAX;
    expectError(v, ErrorCode::InvalidArgument, "unk");
    v = base;
    v.pre = "no-such-pre-tokenizer";
    expectError(v, ErrorCode::InvalidArgument, "pre");
}

void TestTokenizer::ggufLoader() {
    auto build = [](const std::function<void(GgufWriter&)>& edit) {
        GgufWriter w;
        w.set("general.architecture", "llama");
        w.set("tokenizer.ggml.model", "gpt2");
        w.set("tokenizer.ggml.pre", "smollm");
        std::vector<std::string> tokens = {"<|endoftext|>", "a", "b", "ab", "\xC4\xA0"};
        w.setArray("tokenizer.ggml.tokens", tokens);
        w.setArray("tokenizer.ggml.token_type", std::vector<int32_t>{3, 1, 1, 1, 1});
        w.setArray("tokenizer.ggml.merges", std::vector<std::string>{"a b"});
        w.set("tokenizer.ggml.eos_token_id", uint32_t(0));
        w.set("tokenizer.ggml.add_bos_token", false);
        w.set("tokenizer.chat_template", "{{ messages }}");
        edit(w);
        auto bytes = w.writeToBuffer();
        if (!bytes) qFatal("%s", bytes.error().toString().c_str());
        return std::move(bytes).value();
    };
    auto load = [](const std::vector<uint8_t>& bytes) -> Result<VocabData> {
        GB_ASSIGN_OR_RETURN(GgufFile f, GgufFile::parse(bytes));
        return vocabFromGguf(f);
    };
    const auto good = build([](GgufWriter&) {});
    auto v = load(good);
    QVERIFY2(v.ok(), v.ok() ? "" : v.error().toString().c_str());
    QCOMPARE(int(v->model), int(VocabModel::Bpe));
    QCOMPARE(v->pre, std::string("smollm"));
    QCOMPARE(v->tokens.size(), size_t(5));
    QCOMPARE(v->merges.size(), size_t(1));
    QCOMPARE(v->merges[0], Merge("a", "b"));
    QCOMPARE(v->eos, 0);
    QCOMPARE(v->bos, kNoToken);
    QCOMPARE(int(v->types[0]), int(TokenType::Control));
    QCOMPARE(v->chatTemplate, std::string("{{ messages }}"));
    Tokenizer t = make(std::move(v).value());
    QCOMPARE(t.encode("ab<|endoftext|>", false, true), (Ids{3, 0}));

    auto bert = load(build([](GgufWriter& w) { w.set("tokenizer.ggml.model", "bert"); }));
    QVERIFY(!bert.ok());
    QCOMPARE(int(bert.error().code), int(ErrorCode::Unsupported));
    auto noMerges = load(build([](GgufWriter& w) { w.remove("tokenizer.ggml.merges"); }));
    QVERIFY(!noMerges.ok());
    QCOMPARE(int(noMerges.error().code), int(ErrorCode::NotFound));
    auto badMerge = load(build([](GgufWriter& w) {
        w.setArray("tokenizer.ggml.merges", std::vector<std::string>{"ab"});
    }));
    QVERIFY(!badMerge.ok());
    QCOMPARE(badMerge.error().field, std::string("tokenizer.ggml.merges"));
    auto badType = load(build([](GgufWriter& w) { w.set("tokenizer.ggml.eos_token_id", "two"); }));
    QVERIFY(!badType.ok());
    QCOMPARE(int(badType.error().code), int(ErrorCode::Malformed));
    // A declared id past the vocabulary loads, and Tokenizer::create rejects it.
    auto farEos = load(build([](GgufWriter& w) { w.set("tokenizer.ggml.eos_token_id", uint32_t(77)); }));
    QVERIFY(farEos.ok());
    QVERIFY(!Tokenizer::create(std::move(farEos).value()).ok());
}

void TestTokenizer::tokenizerJsonByteLevel() {
    const std::string json = R"({"version":"1.0",
      "added_tokens":[{"id":5,"content":"<|end|>","special":true},{"id":6,"content":"<tool>","special":false}],
      "normalizer":null,
      "pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},
         {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}]},
      "post_processor":null,"decoder":{"type":"ByteLevel"},
      "model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"\u0120":3,"\u0120ab":4},
               "merges":["a b",["\u0120","ab"]]}})";
    const std::string config = R"({"add_bos_token":true,"bos_token":{"content":"<|end|>"},
      "eos_token":"<|end|>","chat_template":"{{ x }}"})";
    auto v = vocabFromTokenizerJson(json, config);
    QVERIFY2(v.ok(), v.ok() ? "" : v.error().toString().c_str());
    QCOMPARE(int(v->model), int(VocabModel::Bpe));
    QCOMPARE(v->pre, std::string("smollm"));
    QCOMPARE(v->tokens.size(), size_t(7));
    QCOMPARE(int(v->types[5]), int(TokenType::Control));
    QCOMPARE(int(v->types[6]), int(TokenType::UserDefined));
    QCOMPARE(v->merges[1], Merge("\xC4\xA0", "ab"));
    QVERIFY(v->addBos);
    QCOMPARE(v->bos, 5);
    QCOMPARE(v->eos, 5);
    QCOMPARE(v->chatTemplate, std::string("{{ x }}"));
    Tokenizer t = make(std::move(v).value());
    QCOMPARE(t.encode(" ab<|end|><tool>", true, true), (Ids{5, 4, 5, 6}));
}

void TestTokenizer::tokenizerJsonLlama2Style() {
    const std::string json = R"({"added_tokens":[{"id":0,"content":"<unk>","special":true},
        {"id":1,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true}],
      "normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"\u2581"},
        {"type":"Replace","pattern":{"String":" "},"content":"\u2581"}]},
      "pre_tokenizer":null,
      "model":{"type":"BPE","byte_fallback":true,"unk_token":"<unk>",
        "vocab":{"<unk>":0,"<s>":1,"</s>":2,"<0x0A>":3,"\u2581":4,"h":5,"i":6,"hi":7,"\u2581hi":8},
        "merges":["h i","\u2581 hi"]}})";
    auto v = vocabFromTokenizerJson(json, "");
    QVERIFY2(v.ok(), v.ok() ? "" : v.error().toString().c_str());
    QCOMPARE(int(v->model), int(VocabModel::Spm));
    QVERIFY(v->addSpacePrefix);
    QVERIFY(v->addBos);
    QCOMPARE(v->bos, 1);
    QCOMPARE(v->eos, 2);
    QCOMPARE(v->unk, 0);
    QCOMPARE(int(v->types[3]), int(TokenType::Byte));
    QVERIFY(v->scores[7] > v->scores[8]);  // earlier merge, higher score
    Tokenizer t = make(std::move(v).value());
    QCOMPARE(t.encode("hi\nhi", true, false), (Ids{1, 8, 3, 7}));
    QCOMPARE(t.decode(Ids{8, 3, 7}), std::string("hi\nhi"));

    // Only listed merges apply: "abc" is a token, but no listed merge makes it.
    const std::string listed = R"({"normalizer":{"type":"Replace","pattern":{"String":" "},"content":"\u2581"},
      "model":{"type":"BPE","byte_fallback":true,
        "vocab":{"<unk>":0,"a":1,"b":2,"c":3,"ab":4,"bc":5,"abc":6},"merges":["b c","a b"]}})";
    auto lv = vocabFromTokenizerJson(listed, "");
    QVERIFY2(lv.ok(), lv.ok() ? "" : lv.error().toString().c_str());
    QVERIFY(!lv->addSpacePrefix);
    Tokenizer lt = make(std::move(lv).value());
    QCOMPARE(lt.encode("abc", false, false), (Ids{1, 5}));
}

void TestTokenizer::tokenizerJsonRejected() {
    auto code = [](const std::string& json) {
        auto v = vocabFromTokenizerJson(json, "");
        return v.ok() ? -1 : int(v.error().code);
    };
    QCOMPARE(code("{not json"), int(ErrorCode::Malformed));
    QCOMPARE(code(R"({"model":{"type":"Unigram","vocab":[]}})"), int(ErrorCode::Unsupported));
    QCOMPARE(code(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Whitespace"}})"),
             int(ErrorCode::Unsupported));
    QCOMPARE(code(R"({"model":{"type":"BPE","vocab":{"a":-1},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}})"),
             int(ErrorCode::Malformed));
    QCOMPARE(code(R"({"model":{"type":"BPE","vocab":{"a":0,"b":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}})"),
             int(ErrorCode::Malformed));
    QCOMPARE(code(R"({"model":{"type":"BPE","vocab":{"a":0,"b":99999999},"merges":[]},)"
                  R"("pre_tokenizer":{"type":"ByteLevel"}})"),
             int(ErrorCode::Malformed));
    QCOMPARE(code(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a b c"]},"pre_tokenizer":{"type":"ByteLevel"}})"),
             int(ErrorCode::Malformed));
    QCOMPARE(code(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Sequence",)"
                  R"("pretokenizers":[{"type":"Split","pattern":{"Regex":"\\w+"}},{"type":"ByteLevel","use_regex":false}]}})"),
             int(ErrorCode::Unsupported));
    // Loads, but the merge names tokens that do not exist.
    auto v = vocabFromTokenizerJson(
        R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a q"]},"pre_tokenizer":{"type":"ByteLevel"}})", "");
    QVERIFY(v.ok());
    auto t = Tokenizer::create(std::move(v).value());
    QVERIFY(!t.ok());
    QCOMPARE(int(t.error().code), int(ErrorCode::Malformed));
}

QTEST_GUILESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
