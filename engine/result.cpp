// Human-readable rendering of engine errors.
#include "engine/result.h"

namespace glassbox::engine {

const char* errorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidArgument: return "InvalidArgument";
        case ErrorCode::Io: return "Io";
        case ErrorCode::Truncated: return "Truncated";
        case ErrorCode::Overflow: return "Overflow";
        case ErrorCode::Malformed: return "Malformed";
        case ErrorCode::Unsupported: return "Unsupported";
        case ErrorCode::OutOfMemory: return "OutOfMemory";
        case ErrorCode::Cancelled: return "Cancelled";
        case ErrorCode::NotFound: return "NotFound";
        case ErrorCode::ContextFull: return "ContextFull";
        case ErrorCode::Device: return "Device";
    }
    return "Unknown";
}

std::string Error::toString() const {
    std::string s = errorCodeName(code);
    s += ": ";
    s += message;
    if (!field.empty() || offset != kNoOffset) {
        s += " (";
        if (!field.empty()) s += "field '" + field + "'";
        if (!field.empty() && offset != kNoOffset) s += " ";
        if (offset != kNoOffset) s += "at byte " + std::to_string(offset);
        s += ")";
    }
    return s;
}

}  // namespace glassbox::engine
