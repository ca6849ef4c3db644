// Compact binary encodings for the per-token data a run stores in BLOB
// columns: top-k alternatives, sampler stages and token id lists.
//
// Every layout is little-endian and starts with a format byte so it can
// evolve; decoders treat the bytes as untrusted (a project file may come from
// anywhere or be damaged): every count is checked against the bytes that are
// actually there before anything is allocated, reserved bits must be zero and
// the blob must be consumed exactly. A bad blob is a typed error (Truncated
// or Malformed, naming `field` and the byte offset), never a crash. Floats
// are stored as their 32-bit patterns, so they round-trip bit for bit.
//
// Alternatives, format 1 (4 + 8n bytes):
//   u8 format = 1, u8 reserved = 0, u16 n, then n x { i32 id, f32 logprob }
// Stages, format 1:
//   u8 format = 1, u8 stageCount (<= 7), u16 reserved = 0, then per stage
//   { u8 kind (strictly increasing, < 7), u8 flags (bit 0: active; others 0),
//     u16 reserved = 0, u32 m, i64 survivors (>= 0),
//     m x { i32 id, f32 logit, f32 prob } }
// Token ids: n x i32, no header (the BLOB length gives n).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/sampler.h"

namespace glassbox::projects {

inline constexpr uint8_t kAlternativesFormat = 1;
inline constexpr uint8_t kStagesFormat = 1;

// InvalidArgument when there are more than 65535 alternatives.
engine::Result<std::vector<uint8_t>> encodeAlternatives(std::span<const engine::TokenLogprob> alternatives);
// Truncated / Malformed (unknown format, reserved byte set, size mismatch).
engine::Result<std::vector<engine::TokenLogprob>> decodeAlternatives(std::span<const uint8_t> blob,
                                                                     std::string_view field);

// InvalidArgument when a stage holds more than 2^32 - 1 candidates.
engine::Result<std::vector<uint8_t>> encodeStages(const engine::SamplerStages& stages);
// Truncated / Malformed (unknown format or kind, kinds out of order, bad
// flags, negative survivors, trailing bytes).
engine::Result<engine::SamplerStages> decodeStages(std::span<const uint8_t> blob, std::string_view field);

std::vector<uint8_t> encodeTokenIds(std::span<const int32_t> ids);
// Malformed when the length is not a multiple of 4.
engine::Result<std::vector<int32_t>> decodeTokenIds(std::span<const uint8_t> blob, std::string_view field);

}  // namespace glassbox::projects
