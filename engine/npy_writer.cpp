// .npy writer.
#include "engine/npy_writer.h"

#include <cstdio>
#include <memory>

namespace glassbox::engine {

Status writeNpyF32(const std::string& path, std::span<const float> data, const std::vector<int64_t>& shape) {
    uint64_t count = 1;
    std::string dims;
    for (int64_t d : shape) {
        if (d < 0) return makeError(ErrorCode::InvalidArgument, "negative dimension", "shape");
        count *= uint64_t(d);
        dims += std::to_string(d) + ", ";
    }
    if (count != data.size())
        return makeError(ErrorCode::InvalidArgument, "shape does not match the data size", "shape");
    if (shape.size() > 1) dims.resize(dims.size() - 1);  // "(a, b)" ; keep the comma for 1-D
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    const size_t preamble = 10;
    size_t total = preamble + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!f) return makeError(ErrorCode::Io, "cannot open '" + path + "' for writing");
    const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    const uint16_t len = uint16_t(header.size());
    const unsigned char lenBytes[2] = {uint8_t(len & 0xff), uint8_t(len >> 8)};
    bool ok = std::fwrite(magic, 1, 8, f.get()) == 8 && std::fwrite(lenBytes, 1, 2, f.get()) == 2 &&
              std::fwrite(header.data(), 1, header.size(), f.get()) == header.size() &&
              std::fwrite(data.data(), sizeof(float), data.size(), f.get()) == data.size();
    if (std::fflush(f.get()) != 0) ok = false;
    if (!ok) return makeError(ErrorCode::Io, "write to '" + path + "' failed (disk full?)");
    return {};
}

}  // namespace glassbox::engine
