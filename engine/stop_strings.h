// StopStringMatcher: finds stop strings in text that arrives in pieces (one
// detokenized token at a time) and decides how much of it may be shown yet.
//
// Text that could still turn out to be the start of a stop string is held
// back until it can be decided; so is an incomplete UTF-8 sequence at the end
// of what arrived (a token may end in the middle of a character), so emitted
// text always ends on a character boundary when the input is valid UTF-8.
// Matching is on bytes, so a stop string split across pieces, or inside a
// multi-byte character, is found all the same. When a stop string completes,
// the text before it is emitted, the byte offset where it starts is reported,
// and nothing after it is ever returned.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace glassbox::engine {

class StopStringMatcher {
public:
    // What one piece of input released.
    struct Step {
        std::string text;         // safe to show now
        bool stopped = false;     // a stop string completed (now or earlier)
        int32_t stopIndex = -1;   // which stop string, as given to the constructor
        uint64_t cutOffset = 0;   // byte offset in all text fed where the stop string starts
    };

    // Empty stop strings are ignored. With no stop strings, text passes
    // through (still held back at an incomplete UTF-8 sequence).
    explicit StopStringMatcher(std::vector<std::string> stopStrings = {});

    // Feed the next piece. Matching stops at the first piece that completes
    // any stop string; of the stop strings complete at that point, the
    // earliest-starting wins, and on a tie the first given. (A longer stop
    // string that would have started earlier but is not complete yet does
    // not delay the stop.)
    Step feed(std::string_view piece);

    // End of stream: everything still held back (nothing after a stop).
    std::string flush();

    // Forget all input; the stop strings stay.
    void reset();

    bool stopped() const { return m_stopped; }
    size_t heldBytes() const { return m_pending.size(); }
    uint64_t bytesFed() const { return m_pendingStart + m_pending.size(); }
    const std::vector<std::string>& stopStrings() const { return m_stops; }

private:
    size_t heldSuffix() const;
    static size_t incompleteUtf8Tail(std::string_view text);

    std::vector<std::string> m_stops;
    std::vector<int32_t> m_indices;  // position of each m_stops entry in the caller's list
    size_t m_longest = 0;            // longest stop string, in bytes
    std::string m_pending;           // fed but not yet emitted
    uint64_t m_pendingStart = 0;     // stream offset of m_pending[0]
    bool m_stopped = false;
    int32_t m_stopIndex = -1;
    uint64_t m_cutOffset = 0;
};

}  // namespace glassbox::engine
