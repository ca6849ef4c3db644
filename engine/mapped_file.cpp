// Memory mapping of model files.
#include "engine/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <utility>

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace glassbox::engine {

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept { *this = std::move(other); }

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        release();
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
        m_path = std::move(other.m_path);
#ifdef _WIN32
        m_fileHandle = std::exchange(other.m_fileHandle, nullptr);
        m_mapHandle = std::exchange(other.m_mapHandle, nullptr);
#endif
    }
    return *this;
}

void MappedFile::release() {
#ifdef _WIN32
    if (m_data) UnmapViewOfFile(m_data);
    if (m_mapHandle) CloseHandle(m_mapHandle);
    if (m_fileHandle) CloseHandle(m_fileHandle);
    m_mapHandle = m_fileHandle = nullptr;
#else
    if (m_data && m_size) munmap(const_cast<uint8_t*>(m_data), m_size);
#endif
    m_data = nullptr;
    m_size = 0;
}

Result<MappedFile> MappedFile::open(const std::string& path) {
    MappedFile f;
    f.m_path = path;
#ifdef _WIN32
    HANDLE h = CreateFileA(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE) return makeError(ErrorCode::Io, "cannot open '" + path + "'");
    f.m_fileHandle = h;
    LARGE_INTEGER size;
    if (!GetFileSizeEx(h, &size)) return makeError(ErrorCode::Io, "cannot stat '" + path + "'");
    f.m_size = uint64_t(size.QuadPart);
    if (f.m_size == 0) return f;
    f.m_mapHandle = CreateFileMappingA(h, nullptr, PAGE_READONLY, 0, 0, nullptr);
    if (!f.m_mapHandle) return makeError(ErrorCode::Io, "cannot map '" + path + "'");
    f.m_data = static_cast<const uint8_t*>(MapViewOfFile(f.m_mapHandle, FILE_MAP_READ, 0, 0, 0));
    if (!f.m_data) return makeError(ErrorCode::Io, "cannot map '" + path + "'");
#else
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return makeError(ErrorCode::Io, "cannot open '" + path + "': " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return makeError(ErrorCode::Io, "'" + path + "' is not a regular file");
    }
    f.m_size = uint64_t(st.st_size);
    if (f.m_size > 0) {
        void* p = mmap(nullptr, f.m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            ::close(fd);
            f.m_size = 0;
            return makeError(ErrorCode::Io, "cannot map '" + path + "': " + std::strerror(errno));
        }
        f.m_data = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
#endif
    return f;
}

}  // namespace glassbox::engine
