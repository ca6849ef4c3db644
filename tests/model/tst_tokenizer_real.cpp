// The SmolLM2 tokenizer read from the GGUF: ids for known strings (taken
// from Hugging Face tokenizers built from the same vocabulary), special
// tokens, round trips and streaming decode over tests/data/tokenizer_corpus.txt,
// concurrent use from several threads, and encoding speed.
#include <QtTest>

#include <array>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/gguf_file.h"
#include "engine/json.h"
#include "engine/mapped_file.h"
#include "engine/tokenizer.h"
#include "engine/unicode_data.h"
#include "engine/vocab.h"
#include "support/test_paths.h"

using namespace glassbox::engine;

namespace {

using Ids = std::vector<int32_t>;

std::optional<Tokenizer> loadTokenizer(std::string& error) {
    auto file = MappedFile::open(glassbox::testing::defaultModelPath());
    if (!file) return error = file.error().toString(), std::nullopt;
    auto gguf = GgufFile::parse(file->bytes());
    if (!gguf) return error = gguf.error().toString(), std::nullopt;
    auto vocab = vocabFromGguf(*gguf);
    if (!vocab) return error = vocab.error().toString(), std::nullopt;
    auto tok = Tokenizer::create(std::move(vocab).value());
    if (!tok) return error = tok.error().toString(), std::nullopt;
    return std::move(tok).value();
}

std::vector<std::string> readCorpus() {
    std::ifstream in(glassbox::testing::testDataDir() + "/tokenizer_corpus.txt", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        auto v = parseJson(std::string_view(text).substr(start, end - start));
        if (v && v->isString()) lines.emplace_back(*v->asString());
        start = end + 1;
    }
    return lines;
}

}  // namespace

class TestTokenizerReal : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void metadata();
    void knownIds_data();
    void knownIds();
    void specialTokens();
    void corpusRoundTrip();
    void streamingMatchesDecode();
    void concurrentEncode();
    void encodeSpeed();

private:
    std::optional<Tokenizer> m_tok;
    std::vector<std::string> m_corpus;
};

void TestTokenizerReal::initTestCase() {
    if (!QFile::exists(QString::fromStdString(glassbox::testing::defaultModelPath()))) {
        QSKIP("SmolLM2 GGUF not found (set GLASSBOX_MODELS_DIR)");
    }
    std::string error;
    m_tok = loadTokenizer(error);
    QVERIFY2(m_tok.has_value(), error.c_str());
    m_corpus = readCorpus();
    QVERIFY(m_corpus.size() >= 2000);
}

void TestTokenizerReal::metadata() {
    const Tokenizer& t = *m_tok;
    QCOMPARE(t.nVocab(), 49152);
    QCOMPARE(int(t.model()), int(VocabModel::Bpe));
    QCOMPARE(t.vocab().pre, std::string("smollm"));
    QCOMPARE(t.vocab().merges.size(), size_t(48900));
    QCOMPARE(t.bos(), 1);
    QCOMPARE(t.eos(), 2);
    QCOMPARE(t.unk(), 0);
    QCOMPARE(t.pad(), 2);
    QVERIFY(!t.addBos());
    QVERIFY(t.vocab().chatTemplate.find("<|im_start|>") != std::string::npos);
    QCOMPARE(t.tokenPiece(905), std::string("\xC4\xA0world"));
    QCOMPARE(t.tokenText(905), std::string(" world"));
    QCOMPARE(t.tokenText(198), std::string("\n"));
}

void TestTokenizerReal::knownIds_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QList<int>>("ids");
    auto row = [](const char* text, const QList<int>& ids) {
        QTest::newRow(text) << QString::fromUtf8(text) << ids;
    };
    row("Hello, we can use", {19556, 28, 392, 416, 722});
    row("The capital of France is", {504, 3575, 282, 4649, 314});
    row("Hello world! 123", {19556, 905, 17, 216, 33, 34, 35});
    row("  multiple   spaces", {216, 2701, 256, 5600});
    row("Caf\xC3\xA9 d\xC3\xA9j\xC3\xA0 vu.", {51, 1939, 2756, 32564, 90, 16739, 386, 101, 30});
    row("<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n",
        {1, 4093, 198, 1780, 506, 216, 34, 27, 34, 47, 2, 198, 1, 520, 9531, 198});
    row("def f(x):\n\treturn x ** 2  # square",
        {1604, 275, 24, 104, 727, 198, 197, 5406, 1792, 1903, 216, 34, 216, 907, 5222});
    row("\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C\xEF\xBC\x81",
        {18645, 250, 48392, 138, 12831, 7906, 240, 178, 239, 230, 8083, 219});
    row("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7\xE2\x80\x8D\xF0\x9F\x91\xA6"
        " family \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
        {10813, 235, 118, 321, 231, 10813, 235, 119, 321, 231, 10813, 235, 117, 321, 231, 10813, 235, 116,
         1564, 15107, 235, 231, 10813, 233, 138});
    row("I'm sure they'll say it's fine, won't they?",
        {57, 5248, 2090, 502, 3060, 1643, 357, 506, 4979, 28, 3763, 982, 502, 47});
    row("3.14159265358979", {35, 30, 33, 36, 33, 37, 41, 34, 38, 37, 35, 37, 40, 41, 39, 41});
    row("\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 \xD8\xA8\xD8\xA7\xD9\x84\xD8\xB9\xD8\xA7\xD9\x84\xD9\x85",
        {21706, 20602, 44626, 31462, 10805, 45726, 22208, 34966, 22208, 21706});
    row("https://example.com/a?b=c&d=e", {4687, 1742, 7434, 30, 824, 31, 81, 47, 82, 45, 83, 22, 84, 45, 85});
    row("\n\n\n", {16506});
    row("x", {104});
}

void TestTokenizerReal::knownIds() {
    QFETCH(QString, text);
    QFETCH(QList<int>, ids);
    const Ids got = m_tok->encode(text.toStdString(), false, true);
    QCOMPARE(QList<int>(got.begin(), got.end()), ids);
}

void TestTokenizerReal::specialTokens() {
    const Tokenizer& t = *m_tok;
    QCOMPARE(t.encode("<|im_end|>", false, true), (Ids{2}));
    const Ids plain = t.encode("<|im_end|>", false, false);
    QVERIFY(plain.size() > 1);
    QVERIFY(std::find(plain.begin(), plain.end(), 2) == plain.end());
    QCOMPARE(t.decode(plain), std::string("<|im_end|>"));
    QVERIFY(t.isEndOfGeneration(2));
    QVERIFY(t.isEndOfGeneration(0));  // <|endoftext|>
    QVERIFY(!t.isEndOfGeneration(1));
    QVERIFY(t.isControl(1));
    QVERIFY(!t.isControl(905));
    QCOMPARE(t.decode(Ids{1, 4093, 198, 19556, 2}, true), std::string("user\nHello"));
}

void TestTokenizerReal::corpusRoundTrip() {
    const Tokenizer& t = *m_tok;
    // The vocabulary lacks 21 byte-level characters (e.g. 0x16, 0xC0, 0xFF);
    // such bytes are dropped, as by the reference tokenizers.
    std::array<bool, 256> covered{};
    int missing = 0;
    for (int b = 0; b < 256; ++b) {
        covered[size_t(b)] = !t.encode(std::string(1, char(b)), false, false).empty();
        missing += covered[size_t(b)] ? 0 : 1;
    }
    QCOMPARE(missing, 21);
    auto coveredOnly = [&](const std::string& s) {
        std::string out;
        for (char c : s) {
            if (covered[static_cast<uint8_t>(c)]) out += c;
        }
        return out;
    };
    size_t mismatches = 0;
    for (const std::string& line : m_corpus) {
        if (t.decode(t.encode(line, false, true)) != coveredOnly(line)) ++mismatches;
        if (t.decode(t.encode(line, false, false)) != coveredOnly(line)) ++mismatches;
    }
    QCOMPARE(mismatches, size_t(0));
    // Arbitrary bytes, including invalid UTF-8, survive as well.
    std::string bytes;
    for (int i = 0; i < 4096; ++i) bytes += char((i * 7919 + i / 3) % 256);
    QCOMPARE(t.decode(t.encode(bytes, false, false)), coveredOnly(bytes));
}

void TestTokenizerReal::streamingMatchesDecode() {
    const Tokenizer& t = *m_tok;
    for (size_t i = 0; i < m_corpus.size(); i += 7) {
        const Ids ids = t.encode(m_corpus[i], false, true);
        TokenStreamDecoder stream(t);
        std::string all;
        for (int32_t id : ids) {
            const std::string part = stream.push(id);
            QCOMPARE(completeUtf8Prefix(part), part.size());
            all += part;
        }
        all += stream.flush();
        QCOMPARE(all, t.decode(ids));
    }
}

void TestTokenizerReal::concurrentEncode() {
    std::string error;
    auto fresh = loadTokenizer(error);  // cold cache, shared by all threads
    QVERIFY2(fresh.has_value(), error.c_str());
    std::vector<Ids> expected;
    for (const auto& line : m_corpus) expected.push_back(m_tok->encode(line, false, true));
    std::atomic<size_t> wrong{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k) {
        threads.emplace_back([&, k] {
            for (size_t i = k; i < m_corpus.size() + k; ++i) {
                const size_t j = i % m_corpus.size();
                if (fresh->encode(m_corpus[j], false, true) != expected[j]) ++wrong;
            }
        });
    }
    for (auto& th : threads) th.join();
    QCOMPARE(wrong.load(), size_t(0));
}

void TestTokenizerReal::encodeSpeed() {
    std::string error;
    auto cold = loadTokenizer(error);
    QVERIFY2(cold.has_value(), error.c_str());
    std::string text;
    for (const auto& line : m_corpus) text += line + "\n";
    while (text.size() < (4u << 20)) text += text;
    const auto t0 = std::chrono::steady_clock::now();
    const Ids ids = cold->encode(text, false, true);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double mbps = double(text.size()) / 1e6 / secs;
    qInfo("encoded %.1f MB into %zu tokens in %.3f s: %.2f MB/s", text.size() / 1e6, ids.size(), secs, mbps);
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
    QVERIFY2(mbps >= 1.0, "encoding is slower than 1 MB/s");
#endif
    QCOMPARE(cold->decode(ids), m_tok->decode(m_tok->encode(text, false, true)));
}

QTEST_GUILESS_MAIN(TestTokenizerReal)
#include "tst_tokenizer_real.moc"
