// Seedable, platform-independent random numbers for sampling.
// xoshiro256** seeded through splitmix64: the same seed yields the same
// sequence on every compiler, standard library and CPU, because every value
// is derived from integer arithmetic alone (no std::*_distribution, whose
// output differs between standard libraries).
#pragma once

#include <cstdint>

namespace glassbox::engine {

class Rng {
public:
    explicit Rng(uint64_t seed = 0) { reseed(seed); }

    // Restart the sequence from a seed; the same seed gives the same sequence.
    void reseed(uint64_t seed);

    // Next 64 uniformly distributed bits.
    uint64_t nextU64();

    // Uniform in [0, 1) with 53 random bits (exactly representable doubles).
    double nextDouble() { return double(nextU64() >> 11) * 0x1.0p-53; }

    // Uniform in [0, 1) with 24 random bits (exactly representable floats).
    float nextFloat() { return float(nextU64() >> 40) * 0x1.0p-24f; }

    // Uniform integer in [0, bound) without modulo bias; bound 0 returns 0.
    uint64_t nextBelow(uint64_t bound);

    // One step of splitmix64: also useful for deriving seeds from seeds.
    static uint64_t splitMix64(uint64_t& state);

    // A seed drawn from the environment (random_device mixed with the clock),
    // for callers that asked for "random"; report it so a run can be replayed.
    static uint64_t entropySeed();

private:
    uint64_t m_s[4] = {};
};

}  // namespace glassbox::engine
