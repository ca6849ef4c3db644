// A device backend that survives its device: when forward() or
// logitsFromHidden() fails with a Device or OutOfMemory error, a CPU backend
// takes over, the tokens run so far are replayed into its KV cache, and the
// failed call is run again. The reason stays visible in deviceInfo().note.
#include <vector>

#include "engine/backend_factory.h"
#include "engine/capture.h"
#include "engine/model.h"

namespace glassbox::engine {
namespace {

bool isDeviceFailure(const Error& e) { return e.code == ErrorCode::Device || e.code == ErrorCode::OutOfMemory; }

class ResilientBackend final : public Backend {
public:
    ResilientBackend(std::unique_ptr<Backend> device, std::shared_ptr<const Model> model, BackendOptions cpu)
        : m_active(std::move(device)), m_model(std::move(model)), m_cpuOptions(cpu) {
        m_cpuOptions.contextSize = m_active->contextSize();
    }

    std::string name() const override { return m_active->name(); }
    int contextSize() const override { return m_active->contextSize(); }
    int threads() const override { return m_active->threads(); }
    BackendMemory memory() const override { return m_active->memory(); }
    void setCapture(Capture* capture) override {
        m_capture = capture;
        m_active->setCapture(capture);
    }
    void setProfiling(bool on) override {
        m_profiling = on;
        m_active->setProfiling(on);
    }
    StepProfile lastStepProfile() const override { return m_active->lastStepProfile(); }
    DeviceInfo deviceInfo() const override {
        DeviceInfo d = m_active->deviceInfo();
        if (!m_note.empty()) d.note = d.note.empty() ? m_note : d.note + "\n" + m_note;
        return d;
    }

    Status forward(std::span<const int32_t> tokens, int startPos, LogitsMode mode, std::span<float> logits,
                   std::stop_token stop) override {
        Status s = m_active->forward(tokens, startPos, mode, logits, stop);
        if (!s && isDeviceFailure(s.error()) && !m_fellBack) {
            GB_TRY(switchToCpu(s.error(), startPos, stop));
            s = m_active->forward(tokens, startPos, mode, logits, stop);
        }
        if (s) {
            if (m_history.size() > size_t(startPos)) m_history.resize(size_t(startPos));
            if (m_history.size() == size_t(startPos)) m_history.insert(m_history.end(), tokens.begin(), tokens.end());
        }
        return s;
    }

    Status logitsFromHidden(std::span<const float> hidden, int rows, std::span<float> logits,
                            std::stop_token stop) override {
        Status s = m_active->logitsFromHidden(hidden, rows, logits, stop);
        if (!s && isDeviceFailure(s.error()) && !m_fellBack) {
            GB_TRY(switchToCpu(s.error(), int(m_history.size()), stop));
            s = m_active->logitsFromHidden(hidden, rows, logits, stop);
        }
        return s;
    }

private:
    // Replaces the device backend by a CPU one holding the first `positions`
    // tokens of the history in its cache.
    Status switchToCpu(const Error& cause, int positions, std::stop_token stop) {
        if (size_t(positions) > m_history.size())
            return makeError(ErrorCode::Device, "the GPU failed (" + cause.message +
                                                    ") and the tokens before position " + std::to_string(positions) +
                                                    " are unknown, so the CPU cannot take over");
        GB_ASSIGN_OR_RETURN(auto cpu, createCpuBackend(m_model, m_cpuOptions));
        cpu->setProfiling(m_profiling);
        if (positions > 0) {
            std::vector<float> scratch(size_t(m_model->config().nVocab));
            const std::span<const int32_t> replay(m_history.data(), size_t(positions));
            GB_TRY(cpu->forward(replay, 0, LogitsMode::LastOnly, scratch, stop));
        }
        cpu->setCapture(m_capture);
        m_history.resize(size_t(positions));
        m_active = std::move(cpu);
        m_fellBack = true;
        m_note = "the GPU failed mid-run (" + cause.toString() + "); the session continued on the CPU from position " +
                 std::to_string(positions);
        return {};
    }

    std::unique_ptr<Backend> m_active;
    std::shared_ptr<const Model> m_model;
    BackendOptions m_cpuOptions;
    std::vector<int32_t> m_history;
    Capture* m_capture = nullptr;
    bool m_profiling = false;
    bool m_fellBack = false;
    std::string m_note;
};

}  // namespace

std::unique_ptr<Backend> makeResilient(std::unique_ptr<Backend> device, std::shared_ptr<const Model> model,
                                       const BackendOptions& cpuOptions) {
    return std::make_unique<ResilientBackend>(std::move(device), std::move(model), cpuOptions);
}

}  // namespace glassbox::engine
