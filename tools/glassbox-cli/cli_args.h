// Minimal argument parsing shared by the glassbox-cli subcommands:
// "-m MODEL", "--flag VALUE", "--switch"; unknown options are errors.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace glassbox::cli {

class CliArgs {
public:
    // argv after the subcommand name. `switches` take no value.
    static std::optional<CliArgs> parse(const std::vector<std::string>& args,
                                        const std::vector<std::string>& valueOptions,
                                        const std::vector<std::string>& switches,
                                        std::string& errorOut);

    bool has(const std::string& name) const { return m_values.count(name) || m_switches.count(name); }
    std::string get(const std::string& name, const std::string& fallback = {}) const;
    // Numeric getters report a bad number through errorOut and return the fallback.
    long long getInt(const std::string& name, long long fallback, std::string& errorOut) const;
    double getDouble(const std::string& name, double fallback, std::string& errorOut) const;
    // All values of a repeatable option, in order.
    std::vector<std::string> getAll(const std::string& name) const;

private:
    std::multimap<std::string, std::string> m_values;
    std::map<std::string, bool> m_switches;
};

}  // namespace glassbox::cli
