// Argument parsing for glassbox-cli.
#include "tools/glassbox-cli/cli_args.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace glassbox::cli {

std::optional<CliArgs> CliArgs::parse(const std::vector<std::string>& args,
                                      const std::vector<std::string>& valueOptions,
                                      const std::vector<std::string>& switches,
                                      std::string& errorOut) {
    CliArgs out;
    auto contains = [](const std::vector<std::string>& v, const std::string& s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    };
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (contains(switches, a)) {
            out.m_switches[a] = true;
        } else if (contains(valueOptions, a)) {
            if (i + 1 >= args.size()) {
                errorOut = "option " + a + " needs a value";
                return std::nullopt;
            }
            out.m_values.emplace(a, args[++i]);
        } else {
            errorOut = "unknown option '" + a + "'";
            return std::nullopt;
        }
    }
    return out;
}

std::string CliArgs::get(const std::string& name, const std::string& fallback) const {
    auto range = m_values.equal_range(name);
    if (range.first == range.second) return fallback;
    return std::prev(range.second)->second;  // last one wins
}

std::vector<std::string> CliArgs::getAll(const std::string& name) const {
    std::vector<std::string> out;
    auto range = m_values.equal_range(name);
    for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
    return out;
}

long long CliArgs::getInt(const std::string& name, long long fallback, std::string& errorOut) const {
    if (!m_values.count(name)) return fallback;
    const std::string v = get(name);
    errno = 0;
    char* end = nullptr;
    const long long r = std::strtoll(v.c_str(), &end, 10);
    if (errno != 0 || end == v.c_str() || *end != '\0') {
        errorOut = "option " + name + " expects an integer, got '" + v + "'";
        return fallback;
    }
    return r;
}

double CliArgs::getDouble(const std::string& name, double fallback, std::string& errorOut) const {
    if (!m_values.count(name)) return fallback;
    const std::string v = get(name);
    errno = 0;
    char* end = nullptr;
    const double r = std::strtod(v.c_str(), &end);
    if (errno != 0 || end == v.c_str() || *end != '\0') {
        errorOut = "option " + name + " expects a number, got '" + v + "'";
        return fallback;
    }
    return r;
}

}  // namespace glassbox::cli
