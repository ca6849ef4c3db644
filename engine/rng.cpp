// xoshiro256** (Blackman & Vigna) with splitmix64 seeding; see rng.h.
#include "engine/rng.h"

#include <chrono>
#include <random>

namespace glassbox::engine {

namespace {

inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t Rng::splitMix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void Rng::reseed(uint64_t seed) {
    uint64_t state = seed;
    for (uint64_t& word : m_s) word = splitMix64(state);
    // splitmix64 never yields four zero words in a row, but keep the
    // invariant explicit: xoshiro must not start from the all-zero state.
    if ((m_s[0] | m_s[1] | m_s[2] | m_s[3]) == 0) m_s[0] = 1;
}

uint64_t Rng::nextU64() {
    const uint64_t result = rotl(m_s[1] * 5, 7) * 9;
    const uint64_t t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 45);
    return result;
}

uint64_t Rng::nextBelow(uint64_t bound) {
    if (bound == 0) return 0;
    // Rejection sampling: discard the top partial range so every residue is
    // equally likely.
    const uint64_t limit = ~uint64_t(0) - (~uint64_t(0) % bound);
    uint64_t x = nextU64();
    while (x >= limit) x = nextU64();
    return x % bound;
}

uint64_t Rng::entropySeed() {
    std::random_device device;
    uint64_t state = (uint64_t(device()) << 32) ^ uint64_t(device());
    state ^= uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    return splitMix64(state);
}

}  // namespace glassbox::engine
