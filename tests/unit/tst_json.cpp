// JSON parser and serializer: values, escapes and UTF-8, error codes with
// JSON paths and offsets, limits, object lookup, dump round trips, and the
// speed of a tokenizer.json-sized document.
#include <QtTest>

#include <chrono>
#include <cmath>
#include <ctime>

#include "engine/json.h"

using namespace glassbox::engine;

namespace {

JsonValue parsed(std::string_view text) {
    auto r = parseJson(text);
    if (!r.ok()) qWarning("%s", r.error().toString().c_str());
    return r.ok() ? std::move(r).value() : JsonValue();
}

// A tokenizer.json-like document of about `targetBytes`.
std::string tokenizerLikeJson(size_t targetBytes, size_t& vocabEntries) {
    std::string s =
        R"({"version":"1.0","added_tokens":[{"id":0,"content":"<unk>","special":true}],)"
        R"("model":{"type":"BPE","dropout":null,"vocab":{)";
    const size_t half = targetBytes / 2;
    vocabEntries = 0;
    while (s.size() < half) {
        if (vocabEntries) s += ',';
        s += "\"\\u0120tok" + std::to_string(vocabEntries * 7919 % 100003) + "_" +
             std::to_string(vocabEntries) + "\":" + std::to_string(vocabEntries);
        ++vocabEntries;
    }
    s += "},\"merges\":[";
    for (size_t i = 0; s.size() < targetBytes; ++i) {
        if (i) s += ',';
        if (i % 2)
            s += "\"\xC4\xA0t" + std::to_string(i) + " ok" + std::to_string(i % 977) + "\"";
        else
            s += "[\"\xC4\xA0t" + std::to_string(i) + "\",\"ok" + std::to_string(i % 977) + "\"]";
    }
    s += "]}}";
    return s;
}

}  // namespace

class TestJson : public QObject {
    Q_OBJECT

private slots:
    void scalars();
    void numbers();
    void strings();
    void containers();
    void objectLookupAndOrder();
    void duplicateKeys();
    void invalid_data();
    void invalid();
    void errorPathsAndOffsets();
    void limits();
    void everyPrefixOfValidInputFails();
    void dumpRoundTrip();
    void dumpEscapes();
    void builders();
    void bigTokenizerLikeInput();
};

void TestJson::scalars() {
    QVERIFY(parsed("null").isNull());
    QCOMPARE(parsed("true").asBool(), std::optional<bool>(true));
    QCOMPARE(parsed(" \t\r\nfalse\n").asBool(), std::optional<bool>(false));
    QCOMPARE(parsed("\"x\"").asString(), std::optional<std::string_view>("x"));
    QVERIFY(!parsed("1").asString());
    QVERIFY(!parsed("\"1\"").asInt());
    QVERIFY(parsed("\xEF\xBB\xBF{}").isObject());  // BOM skipped
}

void TestJson::numbers() {
    QCOMPARE(parsed("0").asInt(), std::optional<int64_t>(0));
    QCOMPARE(parsed("-0").asInt(), std::optional<int64_t>(0));
    QCOMPARE(parsed("9223372036854775807").asInt(), std::optional<int64_t>(INT64_MAX));
    QCOMPARE(parsed("-9223372036854775808").asInt(), std::optional<int64_t>(INT64_MIN));
    const JsonValue big = parsed("9223372036854775808");
    QVERIFY(big.isNumber() && !big.isInt());
    QCOMPARE(*big.asDouble(), 9223372036854775808.0);
    QCOMPARE(parsed("2.0").asInt(), std::optional<int64_t>(2));
    QCOMPARE(parsed("1e3").asInt(), std::optional<int64_t>(1000));
    QVERIFY(!parsed("1.5").asInt());
    QVERIFY(!parsed("1e300").asInt());
    QCOMPARE(*parsed("1e-05").asDouble(), 1e-05);
    QCOMPARE(*parsed("-12.5E+2").asDouble(), -1250.0);
    QCOMPARE(*parsed("1000000.0").asDouble(), 1e6);
    QCOMPARE(*parsed("0.041666666666666664").asDouble(), 0.041666666666666664);
    QCOMPARE(*parsed("1e-400").asDouble(), 0.0);  // underflow
    QCOMPARE(*parsed("123456789012345678901234567890").asDouble(), 1.2345678901234568e29);
    QVERIFY(parsed("1.7976931348623157e308").isNumber());
    QCOMPARE(parseJson("1e400").error().code, ErrorCode::Malformed);
    QCOMPARE(parseJson("-1e99999999999999999999").error().code, ErrorCode::Malformed);
    QCOMPARE(parseJson("2.5e+9223372036854775807").error().code, ErrorCode::Malformed);
    QCOMPARE(*parsed("-25e-9223372036854775808").asDouble(), -0.0);
    QCOMPARE(*parsed("0.00e99999999999999999999").asDouble(), 0.0);
}

void TestJson::strings() {
    const char* escaped = "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"";
    QCOMPARE(*parsed(escaped).asString(), std::string_view("a\"b\\c/d\b\f\n\r\t"));
    QCOMPARE(*parsed(R"("\u00e9\u4E2D")").asString(), std::string_view("\u00e9\u4e2d"));
    QCOMPARE(*parsed(R"("\ud83d\ude00")").asString(), std::string_view("\xF0\x9F\x98\x80"));
    QCOMPARE(*parsed(R"("\u0120hello")").asString(), std::string_view("\xC4\xA0hello"));
    const JsonValue nul = parsed(R"("a\u0000b")");
    QCOMPARE(nul.asString()->size(), size_t(3));
    QCOMPARE(*parsed("\"\xF0\x9F\x98\x80 raw\"").asString(),
             std::string_view("\xF0\x9F\x98\x80 raw"));
    QCOMPARE(*parsed("\"\x7F\"").asString(), std::string_view("\x7F"));
    // Unpaired surrogates are errors, never U+FFFD.
    QCOMPARE(parseJson(R"("\ud83d")").error().code, ErrorCode::Malformed);
    QCOMPARE(parseJson(R"("\ud83dx")").error().code, ErrorCode::Malformed);
    QCOMPARE(parseJson(R"("\ud83d\u0041")").error().code, ErrorCode::Malformed);
    QCOMPARE(parseJson(R"("\ude00")").error().code, ErrorCode::Malformed);
    QCOMPARE(parseJson("\"\\ud83d\\ude0").error().code, ErrorCode::Truncated);
}

void TestJson::containers() {
    const JsonValue v = parsed(R"([1, [2, []], {"a": {}}, "s", null])");
    QVERIFY(v.isArray());
    QCOMPARE(v.size(), size_t(5));
    QCOMPARE(v.at(0)->asInt(), std::optional<int64_t>(1));
    QCOMPARE(v.at(1)->at(1)->size(), size_t(0));
    QVERIFY(v.at(2)->find("a")->isObject());
    QVERIFY(v.at(4)->isNull());
    QVERIFY(!v.at(5));
    QVERIFY(v.members().empty());
    QVERIFY(!v.find("a"));
    QVERIFY(parsed("[]").items().empty());
    QVERIFY(parsed("{ }").members().empty());
}

void TestJson::objectLookupAndOrder() {
    std::string text = "{";
    for (int i = 0; i < 1000; ++i) {
        if (i) text += ',';
        text += "\"k" + std::to_string((i * 37) % 1000) + "\":" + std::to_string(i);
    }
    text += "}";
    const JsonValue v = parsed(text);
    QCOMPARE(v.size(), size_t(1000));
    for (int i = 0; i < 1000; ++i) {
        std::string key = "k";
        key += std::to_string((i * 37) % 1000);
        QCOMPARE(v.members()[size_t(i)].key, key);
        QCOMPARE(v.find(key)->asInt(), std::optional<int64_t>(i));
    }
    QVERIFY(!v.find("k1000"));
    QVERIFY(!v.find(""));
    const JsonValue small = parsed(R"({"b":1,"a":2,"":3})");
    QCOMPARE(small.members()[0].key, std::string("b"));
    QCOMPARE(small.find("")->asInt(), std::optional<int64_t>(3));
    QCOMPARE(small.object()->indexOf("a"), ptrdiff_t(1));
}

void TestJson::duplicateKeys() {
    auto r = parseJson(R"({"a":1,"b":{"c":2,"c":3}})");
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::Malformed);
    QCOMPARE(QString::fromStdString(r.error().field), QString("$.b.c"));
    QCOMPARE(r.error().offset, uint64_t(18));
    JsonLimits lax;
    lax.rejectDuplicateKeys = false;
    auto last = parseJson(R"({"a":1,"b":2,"a":3})", lax);
    QVERIFY(last.ok());
    QCOMPARE(last->size(), size_t(2));
    QCOMPARE(last->members()[0].key, std::string("a"));
    QCOMPARE(last->find("a")->asInt(), std::optional<int64_t>(3));
    // Duplicates found through the hash index of a large object, too.
    std::string text = "{";
    for (int i = 0; i < 100; ++i) text += "\"k" + std::to_string(i) + "\":0,";
    text += "\"k42\":1}";
    QCOMPARE(parseJson(text).error().code, ErrorCode::Malformed);
}

void TestJson::invalid_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("code");
    const int malformed = int(ErrorCode::Malformed);
    const int truncated = int(ErrorCode::Truncated);
    QTest::newRow("empty") << QByteArray("") << truncated;
    QTest::newRow("spaces") << QByteArray("  \n ") << truncated;
    QTest::newRow("bare word") << QByteArray("hello") << malformed;
    QTest::newRow("True") << QByteArray("True") << malformed;
    QTest::newRow("nul") << QByteArray("nul") << truncated;
    QTest::newRow("nulL") << QByteArray("nulL") << malformed;
    QTest::newRow("leading zero") << QByteArray("01") << malformed;
    QTest::newRow("plus") << QByteArray("+1") << malformed;
    QTest::newRow("dot first") << QByteArray(".5") << malformed;
    QTest::newRow("dot last") << QByteArray("1.") << truncated;
    QTest::newRow("dot then e") << QByteArray("1.e5") << malformed;
    QTest::newRow("e no digits") << QByteArray("1e+") << truncated;
    QTest::newRow("minus alone") << QByteArray("-") << truncated;
    QTest::newRow("minus letter") << QByteArray("-a") << malformed;
    QTest::newRow("hex") << QByteArray("0x10") << malformed;
    QTest::newRow("nan") << QByteArray("NaN") << malformed;
    QTest::newRow("trailing comma array") << QByteArray("[1,]") << malformed;
    QTest::newRow("trailing comma object") << QByteArray(R"({"a":1,})") << malformed;
    QTest::newRow("missing comma") << QByteArray("[1 2]") << malformed;
    QTest::newRow("missing colon") << QByteArray(R"({"a" 1})") << malformed;
    QTest::newRow("unquoted key") << QByteArray("{a:1}") << malformed;
    QTest::newRow("single quotes") << QByteArray("'a'") << malformed;
    QTest::newRow("unclosed array") << QByteArray("[1,2") << truncated;
    QTest::newRow("unclosed object") << QByteArray(R"({"a":)") << truncated;
    QTest::newRow("unclosed string") << QByteArray("\"abc") << truncated;
    QTest::newRow("two values") << QByteArray("1 2") << malformed;
    QTest::newRow("close only") << QByteArray("]") << malformed;
    QTest::newRow("mismatched") << QByteArray("[}") << malformed;
    QTest::newRow("bad escape") << QByteArray(R"("\x41")") << malformed;
    QTest::newRow("bad hex") << QByteArray(R"("\u12G4")") << malformed;
    QTest::newRow("raw newline") << QByteArray("\"a\nb\"") << malformed;
    QTest::newRow("raw tab") << QByteArray("\"a\tb\"") << malformed;
    QTest::newRow("comment") << QByteArray("// x\n1") << malformed;
    QTest::newRow("bad utf8 lead") << QByteArray("\"\xFF\"") << malformed;
    QTest::newRow("bad utf8 cont") << QByteArray("\"\xC3\x28\"") << malformed;
    QTest::newRow("overlong") << QByteArray("\"\xC0\xAF\"") << malformed;
    QTest::newRow("overlong 3") << QByteArray("\"\xE0\x80\xAF\"") << malformed;
    QTest::newRow("utf8 surrogate") << QByteArray("\"\xED\xA0\x80\"") << malformed;
    QTest::newRow("past U+10FFFF") << QByteArray("\"\xF4\x90\x80\x80\"") << malformed;
    QTest::newRow("cut utf8") << QByteArray("\"\xE4\xB8") << truncated;
    QTest::newRow("nul byte") << QByteArray("[1,\0]", 5) << malformed;
}

void TestJson::invalid() {
    QFETCH(QByteArray, text);
    QFETCH(int, code);
    auto r = parseJson(std::string_view(text.constData(), size_t(text.size())));
    QVERIFY2(!r.ok(), "accepted");
    QVERIFY2(int(r.error().code) == code, r.error().toString().c_str());
    QVERIFY(r.error().offset <= uint64_t(text.size()));
    QVERIFY(!r.error().field.empty());
}

void TestJson::errorPathsAndOffsets() {
    auto r = parseJson(R"({"model": {"vocab": {"a": 1, "b": tru}}})");
    QCOMPARE(r.error().code, ErrorCode::Malformed);
    QCOMPARE(QString::fromStdString(r.error().field), QString("$.model.vocab.b"));
    QCOMPARE(r.error().offset, uint64_t(34));
    r = parseJson(R"({"merges": ["a b", "c d", -x]})");
    QCOMPARE(QString::fromStdString(r.error().field), QString("$.merges[2]"));
    r = parseJson(R"({"model.layers.0": {"shape": [1, -]}})");
    QCOMPARE(QString::fromStdString(r.error().field), QString("$[\"model.layers.0\"].shape[1]"));
    QCOMPARE(r.error().code, ErrorCode::Malformed);
    r = parseJson("[1, 2");
    QCOMPARE(r.error().code, ErrorCode::Truncated);
    QCOMPARE(r.error().offset, uint64_t(5));
    QCOMPARE(jsonPathKey("$", "a_b9"), std::string("$.a_b9"));
    QCOMPARE(jsonPathKey("$", "9a"), std::string("$[\"9a\"]"));
    QCOMPARE(jsonPathIndex("$.x", 4), std::string("$.x[4]"));
    const std::string longKey(1000, 'k');
    QVERIFY(jsonPathKey("$", longKey).size() < 300);
    r = parseJson(R"({"a":[)" + std::string(300, '1') + "x");
    QCOMPARE(QString::fromStdString(r.error().field), QString("$.a"));
    QCOMPARE(r.error().offset, uint64_t(306));
    QVERIFY(parsed(R"({"a": [10, 20]})").find("a")->at(1)->offset() == 11);
}

void TestJson::limits() {
    JsonLimits limits;
    limits.maxDepth = 4;
    QVERIFY(parseJson("[[[[1]]]]", limits).ok());
    auto r = parseJson("[[[[[1]]]]]", limits);
    QCOMPARE(r.error().code, ErrorCode::Overflow);
    QCOMPARE(QString::fromStdString(r.error().field), QString("$[0][0][0][0]"));
    QCOMPARE(r.error().offset, uint64_t(4));
    QVERIFY(parseJson(R"({"a":{"b":{"c":{"d":1}}}})", limits).ok());
    QCOMPARE(parseJson(R"({"a":{"b":{"c":{"d":{}}}}})", limits).error().code, ErrorCode::Overflow);

    // The default cap stops a depth bomb without deep recursion.
    const std::string bomb(1'000'000, '[');
    const auto start = std::chrono::steady_clock::now();
    QCOMPARE(parseJson(bomb).error().code, ErrorCode::Overflow);
    QVERIFY(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    QVERIFY(parseJson(std::string(128, '[') + std::string(128, ']')).ok());
    QVERIFY(!parseJson(std::string(129, '[') + std::string(129, ']')).ok());

    limits = JsonLimits();
    limits.maxBytes = 10;
    QCOMPARE(parseJson("[1,2,3,4,5]", limits).error().code, ErrorCode::Overflow);
    QVERIFY(parseJson("[1,2,3,45]", limits).ok());
    limits = JsonLimits();
    limits.maxValues = 4;
    QVERIFY(parseJson("[1,2,3]", limits).ok());
    QCOMPARE(parseJson("[1,2,3,4]", limits).error().code, ErrorCode::Overflow);
}

void TestJson::everyPrefixOfValidInputFails() {
    const std::string text =
        R"({"a": [1, -2.5e3, true, null, "x\u00e9\ud83d\ude00"], "b": {"c": false}})";
    QVERIFY(parseJson(text).ok());
    for (size_t n = 0; n < text.size(); ++n) {
        auto r = parseJson(std::string_view(text).substr(0, n));
        QVERIFY2(!r.ok(), qPrintable(QString("prefix %1 accepted").arg(n)));
        QVERIFY(r.error().code == ErrorCode::Truncated || r.error().code == ErrorCode::Malformed);
    }
}

void TestJson::dumpRoundTrip() {
    const std::string text =
        "{\"s\":\"a\\\"\\\\\\n\\u0001\u00e9\U0001F600\","
        R"("i":-42,"big":18446744073709551615,"d":0.1,"e":1e-05,)"
        R"("t":true,"f":false,"n":null,"arr":[[],{},[1,[2]]],"o":{"z":1,"a":2}})";
    const JsonValue v = parsed(text);
    QVERIFY(v.isObject());
    const std::string compact = dumpJson(v);
    QCOMPARE(parsed(compact), v);
    QCOMPARE(dumpJson(parsed(compact)), compact);
    QVERIFY(compact.find("\"i\":-42") != std::string::npos);
    QVERIFY(compact.find("\"d\":0.1") != std::string::npos);
    QVERIFY(compact.find("\"e\":1e-05") != std::string::npos);
    const std::string pretty = dumpJson(v, {2, false});
    QVERIFY(pretty.find("\n  \"s\": ") != std::string::npos);
    QVERIFY(pretty.find("\"arr\": [\n    [],\n    {},") != std::string::npos);
    QCOMPARE(parsed(pretty), v);
    const std::string ascii = dumpJson(v, {0, true});
    for (char c : ascii) QVERIFY(static_cast<unsigned char>(c) < 0x80);
    QVERIFY(ascii.find("\\ud83d\\ude00") != std::string::npos);
    QCOMPARE(parsed(ascii), v);
}

void TestJson::dumpEscapes() {
    std::string out;
    appendJsonString(out, std::string_view("q\"b\\\b\f\n\r\t\x01\x1f\x7f", 12));
    QCOMPARE(out, std::string("\"q\\\"b\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\""));
    out.clear();
    appendJsonString(out, "bad \xFF\xC3 utf8");
    QCOMPARE(out, std::string("\"bad \xEF\xBF\xBD\xEF\xBF\xBD utf8\""));
    QVERIFY(parseJson(out).ok());
    QCOMPARE(dumpJson(JsonValue(std::nan(""))), std::string("null"));
    QCOMPARE(dumpJson(JsonValue(INFINITY)), std::string("null"));
    QCOMPARE(dumpJson(JsonValue(1e300)), std::string("1e+300"));
    QCOMPARE(dumpJson(JsonValue(10000.0)), std::string("10000.0"));
    QCOMPARE(dumpJson(JsonValue(-0.0)), std::string("-0.0"));
    QCOMPARE(dumpJson(parsed("[1e2, -0, 2.50]")), std::string("[100.0,0,2.5]"));
    QCOMPARE(dumpJson(JsonValue(uint64_t(1) << 63)), std::string("9223372036854775808.0"));
}

void TestJson::builders() {
    JsonValue root;
    root.set("name", "glassbox").set("layers", 22).set("eps", 1e-5).set("tied", true);
    JsonValue list;
    list.push(1).push("two").push(nullptr);
    root.set("list", std::move(list));
    root.set("name", "again");  // replaced in place
    QCOMPARE(dumpJson(root),
             std::string(
                 R"({"name":"again","layers":22,"eps":1e-05,"tied":true,"list":[1,"two",null]})"));
    JsonValue number(3);
    number.set("x", 1);  // not an object: unchanged
    QCOMPARE(dumpJson(number), std::string("3"));
    QCOMPARE(root.find("layers")->offset(), kNoOffset);
    JsonValue copy = root;
    QCOMPARE(copy, root);
    copy.find("list")->push(4);
    QVERIFY(!(copy == root));
}

void TestJson::bigTokenizerLikeInput() {
    size_t vocabEntries = 0;
    const std::string text = tokenizerLikeJson(10u << 20, vocabEntries);
    // CPU time, so a busy machine does not make the bound flaky.
    double best = 1e9, bestWall = 1e9;
    JsonValue v;
    for (int i = 0; i < 3; ++i) {
        const std::clock_t cpuStart = std::clock();
        const auto start = std::chrono::steady_clock::now();
        auto r = parseJson(text);
        const double wall =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        const double cpu = 1000.0 * double(std::clock() - cpuStart) / CLOCKS_PER_SEC;
        QVERIFY(r.ok());
        best = std::min(best, cpu);
        bestWall = std::min(bestWall, wall);
        v = std::move(r).value();
    }
    qInfo("parsed %.1f MB with %zu vocab entries in %.1f ms CPU, %.1f ms wall (best of 3)",
          double(text.size()) / 1e6, vocabEntries, best, bestWall);
    const JsonValue* vocab = v.find("model") ? v.find("model")->find("vocab") : nullptr;
    QVERIFY(vocab);
    QCOMPARE(vocab->size(), vocabEntries);
    const std::string lastKey = "\xC4\xA0tok" + std::to_string((vocabEntries - 1) * 7919 % 100003) +
                                "_" + std::to_string(vocabEntries - 1);
    QCOMPARE(vocab->find(lastKey)->asInt(), std::optional<int64_t>(int64_t(vocabEntries - 1)));
    QVERIFY(v.find("model")->find("merges")->size() > 100000);
#ifdef NDEBUG
    QVERIFY2(best < 1000.0, "10 MB parse is far slower than expected");
#endif
}

QTEST_GUILESS_MAIN(TestJson)
#include "tst_json.moc"
