// Read-only memory mapping of a whole file (POSIX mmap, Win32 file mapping).
// Move-only; the mapping lives as long as the object.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "engine/result.h"

namespace glassbox::engine {

class MappedFile {
public:
    MappedFile() = default;
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    // Errors: Io when the file cannot be opened, stat'ed or mapped.
    static Result<MappedFile> open(const std::string& path);

    std::span<const uint8_t> bytes() const { return {m_data, m_size}; }
    uint64_t size() const { return m_size; }
    const std::string& path() const { return m_path; }

private:
    void release();
    const uint8_t* m_data = nullptr;
    uint64_t m_size = 0;
    std::string m_path;
#ifdef _WIN32
    void* m_fileHandle = nullptr;
    void* m_mapHandle = nullptr;
#endif
};

}  // namespace glassbox::engine
