// Tests for chat-format detection and rendering. The reference renders in
// tests/data/chat_templates were produced by jinja2 from the real template
// strings (scripts/render_chat_templates.py); every one must match byte for
// byte, and every conversation the real template rejects must be rejected.
#include <QtTest>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <map>
#include <vector>

#include "engine/chat_template.h"
#include "support/test_paths.h"

using namespace glassbox::engine;

namespace {

QString dataDir() {
    return QString::fromStdString(glassbox::testing::testDataDir()) + "/chat_templates/";
}

QByteArray readFile(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) qFatal("cannot read %s", qPrintable(path));
    return file.readAll();
}

std::string str(const QJsonValue& v) { return v.toString().toStdString(); }

std::vector<ChatMessage> messagesOf(const QJsonObject& conversation) {
    std::vector<ChatMessage> out;
    for (const QJsonValue& m : conversation["messages"].toArray())
        out.push_back({str(m.toObject()["role"]), str(m.toObject()["content"])});
    return out;
}

// Renders the template cannot do because it indexes messages[0] of an empty
// list; our ChatML renders those as the generation prompt alone, as
// SmolLM2's template does.
bool isEmptyListFailure(const QJsonObject& render) {
    return render["error"].toString().contains("no element 0");
}

// Tool turns are what a template's caveat (tool rendering) is about.
bool hasToolTurn(const std::vector<ChatMessage>& messages) {
    for (const ChatMessage& m : messages)
        if (m.role != "system" && m.role != "user" && m.role != "assistant") return true;
    return false;
}

}  // namespace

class TestChatTemplate : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void rendersMatchJinja2();
    void detectsRealTemplates();
    void smolLm2DefaultSystemPrompt();
    void unknownTemplateIsAnError();
    void chatMlFallbackAndNames();
    void caveats();
    void stripMatchesPython();
    void turnEnds();

private:
    QJsonObject m_manifest;
    std::map<std::string, QJsonObject> m_templates;
    std::map<std::string, QJsonObject> m_conversations;
};

void TestChatTemplate::initTestCase() {
    m_manifest = QJsonDocument::fromJson(readFile(dataDir() + "cases.json")).object();
    QVERIFY(!m_manifest.isEmpty());
    for (const QJsonValue& t : m_manifest["templates"].toArray())
        m_templates[str(t.toObject()["name"])] = t.toObject();
    for (const QJsonValue& c : m_manifest["conversations"].toArray())
        m_conversations[str(c.toObject()["name"])] = c.toObject();
    QVERIFY(m_templates.size() >= 6);
}

void TestChatTemplate::rendersMatchJinja2() {
    int compared = 0;
    int rejected = 0;
    for (const QJsonValue& value : m_manifest["renders"].toArray()) {
        const QJsonObject render = value.toObject();
        const QJsonObject& tmpl = m_templates.at(str(render["template"]));
        const QJsonObject& conv = m_conversations.at(str(render["conversation"]));
        const QByteArray text = readFile(dataDir() + tmpl["file"].toString());
        const Result<ChatTemplateInfo> layout = detectChatTemplate(text.toStdString());
        QVERIFY2(layout.ok(), qPrintable(tmpl["name"].toString()));
        const std::vector<ChatMessage> messages = messagesOf(conv);
        const Result<std::string> prompt =
            formatChat(*layout, messages, conv["addGenerationPrompt"].toBool(),
                       str(tmpl["bos"]), str(tmpl["eos"]));
        const QString label = render["template"].toString() + " / " + render["conversation"].toString();
        if (render.contains("error")) {
            if (isEmptyListFailure(render) && layout->format == ChatFormat::ChatML) continue;
            QVERIFY2(!prompt.ok(), qPrintable(label + " should be rejected: " + render["error"].toString()));
            QCOMPARE(prompt.error().code, ErrorCode::InvalidArgument);
            QCOMPARE(prompt.error().field, std::string("messages"));
            ++rejected;
            continue;
        }
        if (!layout->caveat.empty() && hasToolTurn(messages)) continue;
        if (!prompt.ok()) QFAIL(qPrintable(label + ": " + QString::fromStdString(prompt.error().toString())));
        const QByteArray expected = readFile(dataDir() + render["expected"].toString());
        if (QByteArray::fromStdString(*prompt) != expected) {
            qWarning("%s\nexpected: %s\nactual:   %s", qPrintable(label),
                     expected.toPercentEncoding(" <>|[]/").constData(),
                     QByteArray::fromStdString(*prompt).toPercentEncoding(" <>|[]/").constData());
            QFAIL("render differs from jinja2");
        }
        ++compared;
    }
    qInfo("%d renders identical to jinja2, %d rejections as the templates raise", compared, rejected);
    QVERIFY(compared >= 50);
    QVERIFY(rejected >= 8);
}

void TestChatTemplate::detectsRealTemplates() {
    for (const auto& [name, tmpl] : m_templates) {
        const QByteArray text = readFile(dataDir() + tmpl["file"].toString());
        const Result<ChatTemplateInfo> info = detectChatTemplate(text.toStdString());
        QVERIFY2(info.ok(), name.c_str());
        QCOMPARE(QString(chatFormatName(info->format)), tmpl["format"].toString());
        QCOMPARE(QString::fromStdString(info->defaultSystemPrompt),
                 tmpl["defaultSystemPrompt"].toString());
    }
}

void TestChatTemplate::smolLm2DefaultSystemPrompt() {
    const QByteArray text = readFile(dataDir() + "templates/smollm2.jinja");
    const Result<ChatTemplateInfo> info = detectChatTemplate(text.toStdString());
    QVERIFY(info.ok());
    QCOMPARE(info->format, ChatFormat::ChatML);
    QCOMPARE(info->defaultSystemPrompt,
             std::string("You are a helpful AI assistant named SmolLM, trained by Hugging Face"));
    QVERIFY(info->caveat.empty());
    const std::vector<ChatMessage> messages{{"user", "Hi"}};
    const Result<std::string> prompt = formatChat(*info, messages, true, "", "");
    QCOMPARE(*prompt, std::string("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
                                  "trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                                  "<|im_start|>assistant\n"));
    // A system message of the caller's replaces the default.
    const std::vector<ChatMessage> withSystem{{"system", "Be brief."}, {"user", "Hi"}};
    QVERIFY(formatChat(*info, withSystem, false, "", "")->find("SmolLM") == std::string::npos);
}

void TestChatTemplate::unknownTemplateIsAnError() {
    const Result<ChatTemplateInfo> empty = detectChatTemplate("  \n");
    QVERIFY(!empty.ok());
    QCOMPARE(empty.error().code, ErrorCode::NotFound);

    const Result<ChatTemplateInfo> unknown =
        detectChatTemplate("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}");
    QVERIFY(!unknown.ok());
    QCOMPARE(unknown.error().code, ErrorCode::Unsupported);
    const QString message = QString::fromStdString(unknown.error().message);
    for (const char* marker : {"<|im_start|>", "<|start_header_id|>", "<start_of_turn>", "[INST]", "<|user|>"})
        QVERIFY2(message.contains(marker), marker);

    // Phi-3 shares <|user|> with Zephyr but ends turns differently.
    const Result<ChatTemplateInfo> phi3 = detectChatTemplate(
        "{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' + message['content'] + "
        "'<|end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}");
    QVERIFY(!phi3.ok());
    QCOMPARE(phi3.error().code, ErrorCode::Unsupported);
    const Result<ChatTemplateInfo> phi4 = detectChatTemplate(
        "{{'<|im_start|>user<|im_sep|>' + message['content'] + '<|im_end|>'}}");
    QVERIFY(!phi4.ok());
}

void TestChatTemplate::chatMlFallbackAndNames() {
    const ChatTemplateInfo fallback = chatTemplateFor(ChatFormat::ChatML);
    QVERIFY(fallback.defaultSystemPrompt.empty());
    const std::vector<ChatMessage> messages{{"user", "Hello"}};
    QCOMPARE(*formatChat(fallback, messages, true, "<s>", "</s>"),
             std::string("<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"));
    for (ChatFormat f : {ChatFormat::ChatML, ChatFormat::Llama3, ChatFormat::Llama2,
                         ChatFormat::Mistral, ChatFormat::Zephyr, ChatFormat::Gemma}) {
        const Result<ChatFormat> back = chatFormatFromName(chatFormatName(f));
        QVERIFY(back.ok());
        QCOMPARE(*back, f);
    }
    const Result<ChatFormat> bad = chatFormatFromName("vicuna");
    QVERIFY(!bad.ok());
    QCOMPARE(bad.error().code, ErrorCode::NotFound);
    QVERIFY(QString::fromStdString(bad.error().message).contains("chatml"));
}

void TestChatTemplate::caveats() {
    const QByteArray qwen = readFile(dataDir() + "templates/qwen2_5.jinja");
    QVERIFY(!detectChatTemplate(qwen.toStdString())->caveat.empty());
    const Result<ChatTemplateInfo> llama31 = detectChatTemplate(
        "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}{{- 'Cutting Knowledge Date: December 2023\\n' }}");
    QCOMPARE(llama31->format, ChatFormat::Llama3);
    QVERIFY(!llama31->caveat.empty());
    QVERIFY(detectChatTemplate(readFile(dataDir() + "templates/llama3.jinja").toStdString())->caveat.empty());
}

void TestChatTemplate::stripMatchesPython() {
    QCOMPARE(stripUnicodeWhitespace("  a b \t\n"), std::string_view("a b"));
    QCOMPARE(stripUnicodeWhitespace("\xC2\xA0x\xE3\x80\x80"), std::string_view("x"));  // NBSP, ideographic space
    QCOMPARE(stripUnicodeWhitespace("\xE2\x80\xA8\x1Fy\xC2\x85"), std::string_view("y"));
    QCOMPARE(stripUnicodeWhitespace("\xE2\x80\x8B z"), std::string_view("\xE2\x80\x8B z"));  // ZWSP is not space
    QCOMPARE(stripUnicodeWhitespace(" \t "), std::string_view(""));
    QCOMPARE(stripUnicodeWhitespace("\xE4\xB8\x96"), std::string_view("\xE4\xB8\x96"));
}

void TestChatTemplate::turnEnds() {
    QCOMPARE(chatTurnEnd(ChatFormat::ChatML, "</s>"), std::string("<|im_end|>"));
    QCOMPARE(chatTurnEnd(ChatFormat::Llama3, "</s>"), std::string("<|eot_id|>"));
    QCOMPARE(chatTurnEnd(ChatFormat::Gemma, "<eos>"), std::string("<end_of_turn>"));
    QCOMPARE(chatTurnEnd(ChatFormat::Zephyr, "</s>"), std::string("</s>"));
}

QTEST_GUILESS_MAIN(TestChatTemplate)
#include "tst_chat_template.moc"
