// Hand-made malformed GGUF files for parser tests and fuzz seeds. Every case
// starts from one small valid file (written by GgufWriter) and breaks one
// thing: a header field, a length, a count, a type id, a shape, an offset,
// or the file's end. Each case names the error GgufFile::parse must return.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/result.h"

namespace glassbox::test {

struct GgufCorruption {
    std::string name;                 // unique, usable as a file name
    std::vector<uint8_t> bytes;       // the malformed file
    engine::ErrorCode expectedCode;   // what parse must return
    std::string expectedField;        // a substring of the returned Error::field
};

// A valid GGUF v3 file of about 1.5 KB: general.architecture, general.alignment
// (32), a long general.description, one key of every scalar type (test.u8 ...
// test.f64), a string array (test.strs), a nested array (test.nest) and an
// int32 array (test.ints); tensors t.f32 (F32 [8,4]), t.q40 (Q4_0 [64,2]),
// t.q80 (Q8_0 [32,1,1,2]) and t.f16 (F16 [16]).
std::vector<uint8_t> makeTinyGguf();

// All malformed variants (more than 50), in a fixed order.
std::vector<GgufCorruption> makeGgufCorruptions();

}  // namespace glassbox::test
