// Tests for StopStringMatcher: stop strings split across pieces, false
// starts, overlapping prefixes, several stop strings, UTF-8 held back at
// character boundaries, and a randomised check against a plain search.
#include <QtTest>

#include <string>
#include <vector>

#include "engine/rng.h"
#include "engine/stop_strings.h"

using namespace glassbox::engine;

namespace {

struct Collected {
    std::string text;
    bool stopped = false;
    int32_t stopIndex = -1;
    uint64_t cutOffset = 0;
};

Collected feedAll(StopStringMatcher& matcher, const std::vector<std::string>& pieces) {
    Collected out;
    for (const std::string& piece : pieces) {
        const StopStringMatcher::Step step = matcher.feed(piece);
        out.text += step.text;
        if (step.stopped) {
            out.stopped = true;
            out.stopIndex = step.stopIndex;
            out.cutOffset = step.cutOffset;
        }
    }
    out.text += matcher.flush();
    return out;
}

// True when `text` ends inside a UTF-8 character.
bool endsMidCharacter(const std::string& text) {
    for (size_t back = 1; back <= 4 && back <= text.size(); ++back) {
        const uint8_t b = uint8_t(text[text.size() - back]);
        if ((b & 0xC0) == 0x80) continue;
        const size_t need = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
        return need > back;
    }
    return false;
}

}  // namespace

class TestStopStrings : public QObject {
    Q_OBJECT

private slots:
    void passThroughWithoutStops();
    void stopInsideOnePiece();
    void stopAcrossPieces();
    void falseStartIsReleased();
    void overlappingPrefix();
    void earliestStopWins();
    void utf8HeldUntilComplete();
    void multiByteStopSplitMidCharacter();
    void afterStopNothingMore();
    void resetAndEmptyStops();
    void randomChunkingMatchesPlainSearch();
};

void TestStopStrings::passThroughWithoutStops() {
    StopStringMatcher matcher;
    QCOMPARE(matcher.feed("Hello").text, std::string("Hello"));
    QCOMPARE(matcher.feed(", world").text, std::string(", world"));
    QCOMPARE(matcher.heldBytes(), size_t(0));
    QCOMPARE(matcher.bytesFed(), uint64_t(12));
    QVERIFY(!matcher.stopped());
}

void TestStopStrings::stopInsideOnePiece() {
    StopStringMatcher matcher({"STOP"});
    const StopStringMatcher::Step step = matcher.feed("Hello STOP world");
    QCOMPARE(step.text, std::string("Hello "));
    QVERIFY(step.stopped);
    QCOMPARE(step.stopIndex, 0);
    QCOMPARE(step.cutOffset, uint64_t(6));
}

void TestStopStrings::stopAcrossPieces() {
    StopStringMatcher matcher({"<|im_end|>"});
    QCOMPARE(matcher.feed("The answer").text, std::string("The answer"));
    QCOMPARE(matcher.feed(" is 4.<|").text, std::string(" is 4."));
    QCOMPARE(matcher.heldBytes(), size_t(2));
    QCOMPARE(matcher.feed("im_").text, std::string());
    const StopStringMatcher::Step step = matcher.feed("end|>\nmore");
    QVERIFY(step.stopped);
    QCOMPARE(step.text, std::string());
    QCOMPARE(step.cutOffset, uint64_t(16));
}

void TestStopStrings::falseStartIsReleased() {
    StopStringMatcher matcher({"STOP"});
    QCOMPARE(matcher.feed("a ST").text, std::string("a "));
    QCOMPARE(matcher.feed("AR").text, std::string("STAR"));
    QCOMPARE(matcher.feed("S").text, std::string());
    QCOMPARE(matcher.flush(), std::string("S"));  // end of stream releases the rest
    QVERIFY(!matcher.stopped());
}

void TestStopStrings::overlappingPrefix() {
    StopStringMatcher matcher({"aab"});
    const Collected out = feedAll(matcher, {"a", "a", "a", "b", "tail"});
    QCOMPARE(out.text, std::string("a"));
    QVERIFY(out.stopped);
    QCOMPARE(out.cutOffset, uint64_t(1));
}

void TestStopStrings::earliestStopWins() {
    StopStringMatcher matcher({"world", "lo w", "lo"});
    const StopStringMatcher::Step step = matcher.feed("hello world");
    QVERIFY(step.stopped);
    QCOMPARE(step.text, std::string("hel"));
    QCOMPARE(step.stopIndex, 1);  // "lo w" and "lo" both start at 3: the first given wins
    QCOMPARE(step.cutOffset, uint64_t(3));
}

void TestStopStrings::utf8HeldUntilComplete() {
    StopStringMatcher matcher({"END"});
    QCOMPARE(matcher.feed("x\xE4").text, std::string("x"));
    QCOMPARE(matcher.feed("\xB8").text, std::string());
    QCOMPARE(matcher.feed("\x96!").text, std::string("\xE4\xB8\x96!"));  // 世!
    // A four-byte emoji arriving one byte at a time.
    const std::string emoji = "\xF0\x9F\x98\x80";
    std::string seen;
    for (char byte : emoji) seen += matcher.feed(std::string(1, byte)).text;
    QCOMPARE(seen, emoji);
    // A byte that cannot continue the sequence ends the hold.
    QCOMPARE(matcher.feed("\xC3").text, std::string());
    QCOMPARE(matcher.feed("A").text, std::string("\xC3" "A"));
}

void TestStopStrings::multiByteStopSplitMidCharacter() {
    const std::string stop = "\xE7\xB5\x82\xE3\x82\x8F\xE3\x82\x8A";  // 終わり
    StopStringMatcher matcher({stop});
    const std::string text = "\xE3\x81\xAF\xE3\x81\x84" + stop + "\xE3\x80\x82";  // はい終わり。
    std::vector<std::string> pieces;
    for (size_t i = 0; i < text.size(); i += 2) pieces.push_back(text.substr(i, 2));
    const Collected out = feedAll(matcher, pieces);
    QVERIFY(out.stopped);
    QCOMPARE(out.text, std::string("\xE3\x81\xAF\xE3\x81\x84"));
    QCOMPARE(out.cutOffset, uint64_t(6));
}

void TestStopStrings::afterStopNothingMore() {
    StopStringMatcher matcher({"\n\n"});
    QCOMPARE(matcher.feed("para\n").text, std::string("para"));
    QVERIFY(matcher.feed("\nnext").stopped);
    const StopStringMatcher::Step later = matcher.feed("more text");
    QVERIFY(later.stopped);
    QVERIFY(later.text.empty());
    QCOMPARE(later.cutOffset, uint64_t(4));
    QCOMPARE(matcher.flush(), std::string());
}

void TestStopStrings::resetAndEmptyStops() {
    StopStringMatcher matcher({"", "X"});
    QCOMPARE(matcher.stopStrings().size(), size_t(1));
    const StopStringMatcher::Step step = matcher.feed("abXc");
    QCOMPARE(step.stopIndex, 1);  // index in the list as given, empty entry included
    matcher.reset();
    QVERIFY(!matcher.stopped());
    QCOMPARE(matcher.bytesFed(), uint64_t(0));
    QCOMPARE(matcher.feed("abc").text, std::string("abc"));
}

void TestStopStrings::randomChunkingMatchesPlainSearch() {
    // Texts over a small alphabet (with multi-byte letters) so stop strings
    // and their prefixes occur often. The reference searches the whole text
    // received so far after every piece: generation stops at the first piece
    // that completes any stop string, cut at the earliest start (first given
    // on a tie). Emitted text must end on character boundaries.
    const std::vector<std::string> alphabet{"a", "b", "c", " ", "\xC3\xA9", "\xE2\x82\xAC"};
    Rng rng(2025);
    for (int round = 0; round < 3000; ++round) {
        std::string text;
        const size_t letters = 1 + rng.nextBelow(40);
        for (size_t i = 0; i < letters; ++i) text += alphabet[rng.nextBelow(alphabet.size())];
        std::vector<std::string> stops;
        const size_t count = 1 + rng.nextBelow(3);
        for (size_t s = 0; s < count; ++s) {
            std::string stop;
            const size_t len = 1 + rng.nextBelow(4);
            for (size_t i = 0; i < len; ++i) stop += alphabet[rng.nextBelow(alphabet.size())];
            stops.push_back(stop);
        }
        std::vector<size_t> cuts;
        for (size_t at = 0; at < text.size();) {
            at = std::min(text.size(), at + 1 + size_t(rng.nextBelow(5)));
            cuts.push_back(at);
        }

        size_t expectedCut = std::string::npos;
        int32_t expectedIndex = -1;
        for (size_t end : cuts) {
            const std::string seen = text.substr(0, end);
            for (size_t s = 0; s < stops.size(); ++s) {
                const size_t pos = seen.find(stops[s]);
                if (pos < expectedCut) {
                    expectedCut = pos;
                    expectedIndex = int32_t(s);
                }
            }
            if (expectedIndex >= 0) break;
        }

        StopStringMatcher matcher(stops);
        Collected out;
        size_t at = 0;
        for (size_t end : cuts) {
            const StopStringMatcher::Step step = matcher.feed(std::string_view(text).substr(at, end - at));
            at = end;
            QVERIFY(!endsMidCharacter(step.text));
            out.text += step.text;
            if (step.stopped) {
                out.stopped = true;
                out.stopIndex = step.stopIndex;
                out.cutOffset = step.cutOffset;
                break;
            }
        }
        out.text += matcher.flush();
        if (expectedIndex < 0) {
            QVERIFY(!out.stopped);
            QCOMPARE(out.text, text);
        } else {
            QVERIFY(out.stopped);
            QCOMPARE(out.cutOffset, uint64_t(expectedCut));
            QCOMPARE(out.stopIndex, expectedIndex);
            QCOMPARE(out.text, text.substr(0, expectedCut));
        }
    }
}

QTEST_GUILESS_MAIN(TestStopStrings)
#include "tst_stop_strings.moc"
