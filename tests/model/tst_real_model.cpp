// The engine on the real default model (SmolLM2-135M-Instruct, Q4_1):
// loading, greedy and seeded generation, chat formatting, stop strings,
// cancellation, branching by cache reuse, and corrupt-file handling.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/chat_template.h"
#include "engine/generator.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "support/test_paths.h"

using namespace glassbox;

class TestRealModel : public QObject {
    Q_OBJECT

    std::shared_ptr<const engine::Model> m_model;

    std::unique_ptr<engine::Session> newSession(int ctx = 1024) {
        engine::BackendOptions o;
        o.contextSize = ctx;
        o.threads = 2;
        auto s = engine::Session::create(m_model, o);
        if (!s) qFatal("%s", s.error().toString().c_str());
        return std::move(*s);
    }

    engine::GenerationResult run(engine::Session& s, const std::string& prompt, engine::SamplerSettings st) {
        engine::GenerationRequest req;
        req.prompt = m_model->tokenizer().encode(prompt, true, true);
        req.sampling = st;
        auto r = engine::generate(s, req);
        if (!r) qFatal("%s", r.error().toString().c_str());
        return *r;
    }

    static engine::SamplerSettings greedy(int n) {
        engine::SamplerSettings s;
        s.temperature = 0.0f;
        s.maxTokens = n;
        return s;
    }

private slots:
    void initTestCase() {
        std::vector<float> fractions;
        auto m = engine::Model::load(testing::defaultModelPath(), {}, [&](float f, const std::string&) {
            fractions.push_back(f);
        });
        QVERIFY2(m.ok(), m.ok() ? "" : m.error().toString().c_str());
        m_model = *m;
        QVERIFY(!fractions.empty());
        QCOMPARE(fractions.back(), 1.0f);
        QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
    }

    void configMatchesMetadata() {
        const auto& c = m_model->config();
        QCOMPARE(c.architecture, std::string("llama"));
        QCOMPARE(c.nLayers, 30);
        QCOMPARE(c.nEmbd, 576);
        QCOMPARE(c.nHead, 9);
        QCOMPARE(c.nHeadKv, 3);
        QCOMPARE(c.headDim, 64);
        QCOMPARE(c.nFf, 1536);
        QCOMPARE(c.nVocab, 49152);
        QVERIFY(c.tiedEmbeddings);
        QCOMPARE(m_model->weightTypeSummary(), std::string("Q4_1"));
        QCOMPARE(m_model->tensorTable().size(), size_t(272));
    }

    void greedyAnswersAFactualPrompt() {
        auto s = newSession();
        auto r = run(*s, "The capital of France is", greedy(8));
        QVERIFY2(r.text.find("Paris") != std::string::npos, r.text.c_str());
        for (const auto& t : r.tokens) {
            QVERIFY(std::isfinite(t.sample.logprob));
            QVERIFY(t.sample.logprob <= 0.0f);
            QCOMPARE(int(t.sample.topAlternatives.size()), 5);
            QCOMPARE(t.sample.topAlternatives[0].id, t.id);  // greedy picks the most likely
        }
    }

    void greedyIsDeterministicAndSeedsReproduce() {
        auto s = newSession();
        auto a = run(*s, "Once upon a time", greedy(24));
        auto b = run(*s, "Once upon a time", greedy(24));
        QCOMPARE(a.text, b.text);
        QCOMPARE(b.reusedPromptTokens, int(b.promptTokens.size()) - 1);
        engine::SamplerSettings st;
        st.temperature = 0.9f;
        st.maxTokens = 24;
        st.seed = 42;
        auto c = run(*s, "Once upon a time", st);
        auto d = run(*s, "Once upon a time", st);
        QCOMPARE(c.text, d.text);
        st.seed = 43;
        auto e = run(*s, "Once upon a time", st);
        QVERIFY(c.text != e.text);
    }

    void chatFormatProducesAnAssistantReply() {
        auto layout = engine::detectChatTemplate(m_model->chatTemplate());
        QVERIFY(layout.ok());
        QCOMPARE(int(layout->format), int(engine::ChatFormat::ChatML));
        std::vector<engine::ChatMessage> msgs = {{"user", "What is 2 + 2?"}};
        auto prompt = engine::formatChat(*layout, msgs, true, "", "");
        QVERIFY(prompt.ok());
        auto s = newSession();
        auto r = run(*s, *prompt, greedy(48));
        QVERIFY2(r.text.find('4') != std::string::npos, r.text.c_str());
        QCOMPARE(int(r.stopReason), int(engine::StopReason::EndOfGeneration));
    }

    void stopStringsEndTheCompletion() {
        auto s = newSession();
        auto st = greedy(64);
        st.stopStrings = {"."};
        auto r = run(*s, "The capital of France is", st);
        QCOMPARE(int(r.stopReason), int(engine::StopReason::StopString));
        QVERIFY(r.text.find('.') == std::string::npos);
    }

    void cancellationStopsWithinOneToken() {
        auto s = newSession();
        std::stop_source src;
        engine::GenerationRequest req;
        req.prompt = m_model->tokenizer().encode("Once upon a time, in a small village,", true, true);
        req.sampling = greedy(200);
        int seen = 0;
        auto r = engine::generate(*s, req, [&](const engine::GeneratedToken& t) {
            if (t.index >= 0 && ++seen == 5) src.request_stop();
        }, src.get_token());
        QVERIFY(r.ok());
        QCOMPARE(int(r->stopReason), int(engine::StopReason::Cancelled));
        QCOMPARE(int(r->tokens.size()), 5);
    }

    void contextFullEndsGeneration() {
        auto s = newSession(16);
        auto r = run(*s, "Count: one, two, three,", greedy(100));
        QCOMPARE(int(r.stopReason), int(engine::StopReason::ContextFull));
        QCOMPARE(s->position(), 16);
    }

    void truncatedModelIsAClearError() {
        const std::string dir = testing::makeTempDir("glassbox-truncated");
        const std::string path = dir + "/truncated.gguf";
        {
            std::ifstream in(testing::defaultModelPath(), std::ios::binary);
            std::vector<char> head(3 * 1024 * 1024);
            in.read(head.data(), std::streamsize(head.size()));
            std::ofstream out(path, std::ios::binary);
            out.write(head.data(), std::streamsize(head.size()));
        }
        auto m = engine::Model::load(path);
        QVERIFY(!m.ok());
        qInfo("%s", m.error().toString().c_str());
        QVERIFY(!m.error().field.empty());
        QVERIFY(m.error().offset != engine::kNoOffset);
        auto missing = engine::Model::load(dir + "/does-not-exist.gguf");
        QCOMPARE(int(missing.error().code), int(engine::ErrorCode::Io));
        std::filesystem::remove_all(dir);
    }
};

QTEST_GUILESS_MAIN(TestRealModel)
#include "tst_real_model.moc"
