// Errors as values: every fallible engine call returns Result<T>.
// An Error carries a code, a human message, and (for parsers) the field
// being read and the byte offset where the problem was found.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace glassbox::engine {

enum class ErrorCode {
    InvalidArgument,  // caller passed something unusable
    Io,               // file could not be opened / mapped / written
    Truncated,        // input ended before a declared structure did
    Overflow,         // a declared size overflowed or exceeded the input
    Malformed,        // structurally wrong (bad magic, bad enum, bad order)
    Unsupported,      // valid but not handled (architecture, type, version)
    OutOfMemory,      // an allocation failed
    Cancelled,        // a stop_token was triggered
    NotFound,         // a named key / tensor / token is absent
    ContextFull,      // the KV cache has no room left
    Device,           // a GPU, driver or device library failed or is absent
};

const char* errorCodeName(ErrorCode code);

inline constexpr uint64_t kNoOffset = ~uint64_t(0);

struct Error {
    ErrorCode code = ErrorCode::Malformed;
    std::string message;       // what went wrong, for humans
    std::string field;         // the field / key being read, if any
    uint64_t offset = kNoOffset;  // byte offset in the input, if any

    // "Malformed: <message> (field 'x' at byte 123)"
    std::string toString() const;
};

inline Error makeError(ErrorCode code, std::string message, std::string field = {},
                       uint64_t offset = kNoOffset) {
    return Error{code, std::move(message), std::move(field), offset};
}

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::move(value)) {}
    Result(Error error) : m_v(std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { return std::get<1>(m_v); }

private:
    std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_ok(false) {}
    bool ok() const { return m_ok; }
    explicit operator bool() const { return m_ok; }
    const Error& error() const { return m_error; }

private:
    Error m_error;
    bool m_ok = true;
};

using Status = Result<void>;

}  // namespace glassbox::engine

// Propagate an error from a Result-returning expression.
#define GB_TRY(expr)                                   \
    do {                                               \
        auto&& gb_try_r_ = (expr);                     \
        if (!gb_try_r_.ok()) return gb_try_r_.error(); \
    } while (0)

#define GB_CONCAT_INNER(a, b) a##b
#define GB_CONCAT(a, b) GB_CONCAT_INNER(a, b)
// Assign the value of a Result-returning expression or propagate its error.
#define GB_ASSIGN_OR_RETURN(lhs, expr) \
    GB_ASSIGN_OR_RETURN_IMPL(GB_CONCAT(gb_r_, __LINE__), lhs, expr)
#define GB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                           \
    if (!tmp.ok()) return tmp.error();           \
    lhs = std::move(tmp).value()
