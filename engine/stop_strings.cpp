// StopStringMatcher implementation; see stop_strings.h. Invariant between
// calls: m_pending contains no complete stop string, and it is exactly the
// text that may still begin one (or finish a UTF-8 character).
#include "engine/stop_strings.h"

#include <algorithm>
#include <utility>

namespace glassbox::engine {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stopStrings) {
    for (size_t i = 0; i < stopStrings.size(); ++i) {
        if (stopStrings[i].empty()) continue;
        m_longest = std::max(m_longest, stopStrings[i].size());
        m_stops.push_back(std::move(stopStrings[i]));
        m_indices.push_back(int32_t(i));
    }
}

StopStringMatcher::Step StopStringMatcher::feed(std::string_view piece) {
    Step step;
    if (!m_stopped) {
        const size_t oldSize = m_pending.size();
        m_pending.append(piece);
        // The old text held no complete match, so a new one ends in `piece`.
        size_t bestPos = std::string::npos;
        int32_t best = -1;
        for (size_t k = 0; k < m_stops.size(); ++k) {
            const size_t reach = m_stops[k].size() - 1;
            const size_t from = oldSize > reach ? oldSize - reach : 0;
            const size_t pos = m_pending.find(m_stops[k], from);
            if (pos < bestPos) {
                bestPos = pos;
                best = int32_t(k);
            }
        }
        if (best >= 0) {
            step.text = m_pending.substr(0, bestPos);
            m_stopped = true;
            m_stopIndex = m_indices[size_t(best)];
            m_cutOffset = m_pendingStart + bestPos;
            m_pendingStart += m_pending.size();
            m_pending.clear();
        } else {
            size_t emit = m_pending.size() - heldSuffix();
            emit -= incompleteUtf8Tail(std::string_view(m_pending).substr(0, emit));
            step.text = m_pending.substr(0, emit);
            m_pending.erase(0, emit);
            m_pendingStart += emit;
            return step;
        }
    }
    step.stopped = true;
    step.stopIndex = m_stopIndex;
    step.cutOffset = m_cutOffset;
    return step;
}

std::string StopStringMatcher::flush() {
    std::string out = std::move(m_pending);
    m_pending.clear();
    m_pendingStart += out.size();
    return out;
}

void StopStringMatcher::reset() {
    m_pending.clear();
    m_pendingStart = 0;
    m_stopped = false;
    m_stopIndex = -1;
    m_cutOffset = 0;
}

size_t StopStringMatcher::heldSuffix() const {
    // Longest suffix of m_pending that is a proper prefix of a stop string.
    size_t best = 0;
    for (const std::string& stop : m_stops) {
        for (size_t len = std::min(stop.size() - 1, m_pending.size()); len > best; --len) {
            if (m_pending.compare(m_pending.size() - len, len, stop, 0, len) == 0) {
                best = len;
                break;
            }
        }
    }
    return best;
}

size_t StopStringMatcher::incompleteUtf8Tail(std::string_view text) {
    // Look back over at most three bytes for the lead byte of the last
    // character; report its bytes if the character is not complete yet.
    for (size_t back = 1; back <= 3 && back <= text.size(); ++back) {
        const uint8_t b = uint8_t(text[text.size() - back]);
        if ((b & 0xC0) == 0x80) continue;  // continuation byte
        const size_t need = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

}  // namespace glassbox::engine
