// Fuzz target for the safetensors reader. Properties: no crash; errors point
// inside the file; every accepted tensor lies inside the input and has the
// byte size its dtype and shape say; writing the accepted tensors with the
// engine writer and reading them back gives the same tensors and metadata.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "engine/safetensors_file.h"
#include "engine/safetensors_writer.h"

using namespace glassbox::engine;

namespace {

void check(bool condition) {
    if (!condition) std::abort();
}

bool sameBytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> bytes(data, size);
    auto file = SafetensorsFile::parse(bytes);
    if (!file.ok()) {
        check(file.error().offset == kNoOffset || file.error().offset <= size);
        return 0;
    }
    std::vector<SafetensorsWriteTensor> tensors;
    uint64_t covered = 0;
    for (const SafetensorsTensor& t : file->tensors()) {
        check(t.data.data() >= data && t.data.data() + t.data.size() <= data + size);
        check(safetensorsDataBytes(t.dtype, t.elements) == t.data.size());
        check(t.shape.size() <= kSafetensorsMaxDims);
        covered += t.data.size();
        auto view = SafetensorsFile::view(t);
        if (view.ok()) {
            check(view->bytes == t.data.size());
            check(view->nDims <= 4);
        }
        tensors.push_back({t.name, t.dtype, t.shape, t.data});
    }
    check(file->dataOffset() + covered == size);

    auto written = serializeSafetensors(tensors, file->metadata());
    check(written.ok());
    auto reread = SafetensorsFile::parse(std::span<const uint8_t>(*written));
    check(reread.ok());
    check(reread->metadata() == file->metadata());
    check(reread->tensors().size() == file->tensors().size());
    for (const SafetensorsTensor& t : file->tensors()) {
        const SafetensorsTensor* u = reread->findTensor(t.name);
        check(u && u->dtype == t.dtype && u->shape == t.shape && sameBytes(u->data, t.data));
    }
    return 0;
}
