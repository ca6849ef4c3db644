// A Hugging Face checkpoint (config.json + model.safetensors +
// tokenizer.json) exported from a synthetic GGUF loads and produces the same
// logits and the same tokenization as the GGUF it came from — which checks
// the safetensors loader, the name mapping and both RoPE orderings at once.
#include <QtTest>

#include <filesystem>

#include "engine/model.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "support/hf_export.h"
#include "support/synthetic_model.h"
#include "support/test_paths.h"

using namespace glassbox;

class TestSafetensorsModel : public QObject {
    Q_OBJECT
    std::string m_dir;

    static std::vector<float> logitsOf(std::shared_ptr<const engine::Model> m, const std::vector<int32_t>& ids) {
        engine::BackendOptions o;
        o.kvType = engine::KvCacheType::F32;
        auto s = engine::Session::create(m, o);
        if (!s) qFatal("%s", s.error().toString().c_str());
        auto l = (*s)->evaluateAll(ids);
        if (!l) qFatal("%s", l.error().toString().c_str());
        return *l;
    }

private slots:
    void initTestCase() { m_dir = testing::makeTempDir("glassbox-hf"); }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void sameLogitsAsGguf_data() {
        QTest::addColumn<QString>("arch");
        QTest::newRow("llama") << "llama";
        QTest::newRow("qwen2") << "qwen2";
    }

    void sameLogitsAsGguf() {
        QFETCH(QString, arch);
        testing::SyntheticModelSpec spec;
        spec.architecture = arch.toStdString();
        const std::string gguf = m_dir + "/" + spec.architecture + ".gguf";
        QVERIFY(testing::writeSyntheticModel(gguf, spec).ok());
        auto a = engine::Model::load(gguf);
        QVERIFY(a.ok());
        const std::string hfDir = m_dir + "/" + spec.architecture + "-hf";
        auto st = testing::exportAsHfCheckpoint(**a, hfDir);
        QVERIFY2(st.ok(), st.ok() ? "" : st.error().toString().c_str());
        auto b = engine::Model::load(hfDir);
        QVERIFY2(b.ok(), b.ok() ? "" : b.error().toString().c_str());
        QCOMPARE(int((*b)->format()), int(engine::ModelFormat::Safetensors));
        QCOMPARE(int((*b)->config().ropeType), int(engine::RopeType::Neox));
        const std::string text = "Hello, world! 123 tea time";
        const auto idsA = (*a)->tokenizer().encode(text, true, false);
        QCOMPARE((*b)->tokenizer().encode(text, true, false), idsA);
        const auto la = logitsOf(*a, idsA), lb = logitsOf(*b, idsA);
        QCOMPARE(la.size(), lb.size());
        float maxDiff = 0;
        for (size_t i = 0; i < la.size(); ++i) maxDiff = std::max(maxDiff, std::abs(la[i] - lb[i]));
        qInfo("max |Δlogit| = %g", maxDiff);
        QVERIFY(maxDiff < 1e-4f);
    }

    void missingPiecesAreNamed() {
        const std::string dir = m_dir + "/empty";
        std::filesystem::create_directories(dir);
        auto m = engine::Model::load(dir);
        QVERIFY(!m.ok());
        QVERIFY(m.error().toString().find("config.json") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSafetensorsModel)
#include "tst_safetensors_model.moc"
