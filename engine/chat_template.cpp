// Chat layout detection and rendering; see chat_template.h. Each render*
// function mirrors one public template statement by statement, including
// where it trims content and where it raises.
#include "engine/chat_template.h"

#include <array>
#include <optional>

namespace glassbox::engine {

namespace {

constexpr std::string_view kAlternation =
    "conversation roles must alternate user/assistant/user/assistant/...";

bool contains(std::string_view text, std::string_view needle) {
    return text.find(needle) != std::string_view::npos;
}

Error messagesError(ChatFormat format, std::string message) {
    return makeError(ErrorCode::InvalidArgument,
                     std::string(chatFormatName(format)) + " chat format: " + message,
                     "messages");
}

// Decodes one UTF-8 code point at `pos`; returns its length, 0 if malformed.
size_t decodeUtf8(std::string_view s, size_t pos, uint32_t& cp) {
    const auto byte = [&](size_t i) { return uint8_t(s[i]); };
    const uint8_t b0 = byte(pos);
    size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || pos + len > s.size()) return 0;
    cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (size_t i = 1; i < len; ++i) {
        if ((byte(pos + i) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (byte(pos + i) & 0x3F);
    }
    return len;
}

// Python's str.isspace() for one code point.
bool isUnicodeSpace(uint32_t cp) {
    if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20)) return true;
    if (cp == 0x85 || cp == 0xA0 || cp == 0x1680) return true;
    if (cp >= 0x2000 && cp <= 0x200A) return true;
    return cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Decodes a template string literal whose opening quote sits just before
// `start`; nullopt when it is not terminated.
std::optional<std::string> decodeLiteral(std::string_view tmpl, size_t start, char quote) {
    std::string out;
    for (size_t i = start; i < tmpl.size(); ++i) {
        const char c = tmpl[i];
        if (c == quote) return out;
        if (c != '\\' || i + 1 == tmpl.size()) {
            out += c;
            continue;
        }
        const char next = tmpl[++i];
        switch (next) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case '\\': case '\'': case '"': out += next; break;
            default: out += '\\'; out += next; break;
        }
    }
    return std::nullopt;
}

// A default system prompt written as one literal
// '<|im_start|>system\n<prompt><|im_end|>...' (SmolLM2, Qwen).
std::string findDefaultSystemPrompt(std::string_view tmpl) {
    constexpr std::string_view kOpen = "<|im_start|>system\n";
    constexpr std::string_view kOpenMarker = "<|im_start|>system";
    constexpr std::string_view kEnd = "<|im_end|>";
    for (size_t at = tmpl.find(kOpenMarker); at != std::string_view::npos;
         at = tmpl.find(kOpenMarker, at + 1)) {
        if (at == 0 || (tmpl[at - 1] != '\'' && tmpl[at - 1] != '"')) continue;
        const std::optional<std::string> literal = decodeLiteral(tmpl, at, tmpl[at - 1]);
        if (!literal || literal->rfind(kOpen, 0) != 0) continue;
        const size_t end = literal->find(kEnd, kOpen.size());
        if (end == std::string::npos || end == kOpen.size()) continue;
        return literal->substr(kOpen.size(), end - kOpen.size());
    }
    return {};
}

std::string chatMlCaveat(std::string_view tmpl) {
    std::string caveat;
    if (contains(tmpl, "tools") || contains(tmpl, "tool_call"))
        caveat = "the template can also render tool definitions and tool calls, which are not rendered here";
    if (contains(tmpl, "<think>")) {
        if (!caveat.empty()) caveat += "; ";
        caveat += "the template rewrites reasoning (<think>) blocks, which are passed through unchanged here";
    }
    return caveat;
}

bool isUser(const ChatMessage& m) { return m.role == "user"; }

// The templates' check: turn i must be a user turn exactly when i is even.
Result<void> checkTurn(ChatFormat format, std::span<const ChatMessage> turns, size_t i) {
    if (isUser(turns[i]) == (i % 2 == 0)) return {};
    return messagesError(format, std::string(kAlternation) + " (turn " + std::to_string(i) +
                                     " has role '" + turns[i].role + "')");
}

Result<void> checkAlternation(ChatFormat format, std::span<const ChatMessage> turns) {
    for (size_t i = 0; i < turns.size(); ++i) GB_TRY(checkTurn(format, turns, i));
    return {};
}

std::string renderChatMl(const ChatTemplateInfo& layout, std::span<const ChatMessage> messages,
                         bool addGenerationPrompt) {
    std::string out;
    for (size_t i = 0; i < messages.size(); ++i) {
        if (i == 0 && !layout.defaultSystemPrompt.empty() && messages[0].role != "system")
            out += "<|im_start|>system\n" + layout.defaultSystemPrompt + "<|im_end|>\n";
        out += "<|im_start|>" + messages[i].role + "\n" + messages[i].content + "<|im_end|>\n";
    }
    if (addGenerationPrompt) out += "<|im_start|>assistant\n";
    return out;
}

std::string renderLlama3(std::span<const ChatMessage> messages, bool addGenerationPrompt,
                         std::string_view bos) {
    std::string out;
    for (size_t i = 0; i < messages.size(); ++i) {
        if (i == 0) out += bos;
        out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n";
        out += stripUnicodeWhitespace(messages[i].content);
        out += "<|eot_id|>";
    }
    if (addGenerationPrompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    return out;
}

Result<std::string> renderLlama2(std::span<const ChatMessage> messages, std::string_view bos,
                                 std::string_view eos) {
    if (messages.empty()) return messagesError(ChatFormat::Llama2, "the conversation is empty");
    const bool hasSystem = messages[0].role == "system";
    const std::span<const ChatMessage> turns = hasSystem ? messages.subspan(1) : messages;
    GB_TRY(checkAlternation(ChatFormat::Llama2, turns));
    std::string out;
    for (size_t i = 0; i < turns.size(); ++i) {
        std::string content = turns[i].content;
        if (i == 0 && hasSystem)
            content = "<<SYS>>\n" + messages[0].content + "\n<</SYS>>\n\n" + content;
        const std::string_view stripped = stripUnicodeWhitespace(content);
        if (turns[i].role == "user") {
            out += bos;
            out += "[INST] ";
            out += stripped;
            out += " [/INST]";
        } else if (turns[i].role == "assistant") {
            out += " ";
            out += stripped;
            out += " ";
            out += eos;
        }
    }
    return out;
}

Result<std::string> renderMistral(std::span<const ChatMessage> messages, std::string_view bos,
                                  std::string_view eos) {
    std::string out(bos);
    for (size_t i = 0; i < messages.size(); ++i) {
        GB_TRY(checkTurn(ChatFormat::Mistral, messages, i));
        if (messages[i].role == "user") {
            out += "[INST] " + messages[i].content + " [/INST]";
        } else if (messages[i].role == "assistant") {
            out += messages[i].content;
            out += eos;
        } else {
            return messagesError(ChatFormat::Mistral,
                                 "only user and assistant roles are supported (turn " +
                                     std::to_string(i) + " has role '" + messages[i].role + "')");
        }
    }
    return out;
}

std::string renderZephyr(std::span<const ChatMessage> messages, bool addGenerationPrompt,
                         std::string_view eos) {
    std::string out;
    for (size_t i = 0; i < messages.size(); ++i) {
        const std::string& role = messages[i].role;
        if (role == "user" || role == "system" || role == "assistant") {
            out += "<|" + role + "|>\n" + messages[i].content;
            out += eos;
            out += "\n";
        }
        if (i + 1 == messages.size() && addGenerationPrompt) out += "<|assistant|>\n";
    }
    return out;
}

Result<std::string> renderGemma(std::span<const ChatMessage> messages, bool addGenerationPrompt,
                                std::string_view bos) {
    if (messages.empty()) return messagesError(ChatFormat::Gemma, "the conversation is empty");
    if (messages[0].role == "system")
        return messagesError(ChatFormat::Gemma, "the system role is not supported");
    GB_TRY(checkAlternation(ChatFormat::Gemma, messages));
    std::string out(bos);
    for (const ChatMessage& m : messages) {
        out += "<start_of_turn>";
        out += m.role == "assistant" ? std::string("model") : m.role;
        out += "\n";
        out += stripUnicodeWhitespace(m.content);
        out += "<end_of_turn>\n";
    }
    if (addGenerationPrompt) out += "<start_of_turn>model\n";
    return out;
}

}  // namespace

const char* chatFormatName(ChatFormat format) {
    switch (format) {
        case ChatFormat::ChatML: return "chatml";
        case ChatFormat::Llama3: return "llama3";
        case ChatFormat::Llama2: return "llama2";
        case ChatFormat::Mistral: return "mistral";
        case ChatFormat::Zephyr: return "zephyr";
        case ChatFormat::Gemma: return "gemma";
    }
    return "unknown";
}

Result<ChatFormat> chatFormatFromName(std::string_view name) {
    constexpr std::array kAll = {ChatFormat::ChatML, ChatFormat::Llama3, ChatFormat::Llama2,
                                 ChatFormat::Mistral, ChatFormat::Zephyr, ChatFormat::Gemma};
    std::string known;
    for (ChatFormat f : kAll) {
        if (name == chatFormatName(f)) return f;
        known += known.empty() ? "" : ", ";
        known += chatFormatName(f);
    }
    return makeError(ErrorCode::NotFound,
                     "unknown chat format '" + std::string(name) + "' (known: " + known + ")",
                     "format");
}

ChatTemplateInfo chatTemplateFor(ChatFormat format) {
    ChatTemplateInfo info;
    info.format = format;
    return info;
}

Result<ChatTemplateInfo> detectChatTemplate(std::string_view tmpl) {
    if (stripUnicodeWhitespace(tmpl).empty())
        return makeError(ErrorCode::NotFound, "the model has no chat template",
                         "tokenizer.chat_template");
    const auto unsupported = [](std::string what) {
        return makeError(ErrorCode::Unsupported, std::move(what) + "; choose a format explicitly",
                         "tokenizer.chat_template");
    };
    ChatTemplateInfo info;
    if (contains(tmpl, "<|im_start|>")) {
        if (contains(tmpl, "<|im_sep|>"))
            return unsupported("chat template uses <|im_start|> with <|im_sep|> (Phi-4 layout), which is not ChatML");
        info.format = ChatFormat::ChatML;
        info.defaultSystemPrompt = findDefaultSystemPrompt(tmpl);
        info.caveat = chatMlCaveat(tmpl);
    } else if (contains(tmpl, "<|start_header_id|>")) {
        info.format = ChatFormat::Llama3;
        if (contains(tmpl, "Cutting Knowledge Date") || contains(tmpl, "tools"))
            info.caveat = "Llama 3.1+ template: its dated system preamble and tool sections are not rendered; turns follow the Llama 3 layout";
    } else if (contains(tmpl, "<start_of_turn>")) {
        info.format = ChatFormat::Gemma;
        if (contains(tmpl, "first_user_prefix"))
            info.caveat = "this Gemma template accepts a system message (folded into the first user turn); the Gemma 1/2 layout used here rejects it";
    } else if (contains(tmpl, "[INST]")) {
        info.format = contains(tmpl, "<<SYS>>") ? ChatFormat::Llama2 : ChatFormat::Mistral;
        if (info.format == ChatFormat::Mistral &&
            (contains(tmpl, "[SYSTEM_PROMPT]") || contains(tmpl, "[AVAILABLE_TOOLS]") ||
             contains(tmpl, "system_message")))
            info.caveat = "newer Mistral template (system prompt, tools or spacing differ); turns follow the v0.2 layout";
    } else if (contains(tmpl, "<|user|>")) {
        if (contains(tmpl, "<|end|>"))
            return unsupported("chat template uses <|user|> with <|end|> (Phi-3 layout), which is not Zephyr");
        info.format = ChatFormat::Zephyr;
    } else {
        return unsupported(
            "chat template not recognised: looked for <|im_start|> (ChatML), "
            "<|start_header_id|> (Llama 3), <start_of_turn> (Gemma), [INST] (Llama 2 / "
            "Mistral) and <|user|> (Zephyr)");
    }
    return info;
}

Result<std::string> formatChat(const ChatTemplateInfo& layout,
                               std::span<const ChatMessage> messages, bool addGenerationPrompt,
                               std::string_view bos, std::string_view eos) {
    switch (layout.format) {
        case ChatFormat::ChatML: return renderChatMl(layout, messages, addGenerationPrompt);
        case ChatFormat::Llama3: return renderLlama3(messages, addGenerationPrompt, bos);
        case ChatFormat::Llama2: return renderLlama2(messages, bos, eos);
        case ChatFormat::Mistral: return renderMistral(messages, bos, eos);
        case ChatFormat::Zephyr: return renderZephyr(messages, addGenerationPrompt, eos);
        case ChatFormat::Gemma: return renderGemma(messages, addGenerationPrompt, bos);
    }
    return makeError(ErrorCode::InvalidArgument, "unknown chat format", "format");
}

Result<std::string> formatChat(ChatFormat format, std::span<const ChatMessage> messages,
                               bool addGenerationPrompt, std::string_view bos,
                               std::string_view eos) {
    return formatChat(chatTemplateFor(format), messages, addGenerationPrompt, bos, eos);
}

std::string chatTurnEnd(ChatFormat format, std::string_view eos) {
    switch (format) {
        case ChatFormat::ChatML: return "<|im_end|>";
        case ChatFormat::Llama3: return "<|eot_id|>";
        case ChatFormat::Gemma: return "<end_of_turn>";
        case ChatFormat::Llama2:
        case ChatFormat::Mistral:
        case ChatFormat::Zephyr: return std::string(eos);
    }
    return std::string(eos);
}

std::string_view stripUnicodeWhitespace(std::string_view text) {
    size_t begin = 0;
    while (begin < text.size()) {
        uint32_t cp = 0;
        const size_t len = decodeUtf8(text, begin, cp);
        if (len == 0 || !isUnicodeSpace(cp)) break;
        begin += len;
    }
    size_t end = text.size();
    while (end > begin) {
        // Step back to the start of the last code point.
        size_t start = end - 1;
        while (start > begin && (uint8_t(text[start]) & 0xC0) == 0x80 && end - start < 4) --start;
        uint32_t cp = 0;
        const size_t len = decodeUtf8(text, start, cp);
        if (len != end - start || !isUnicodeSpace(cp)) break;
        end = start;
    }
    return text.substr(begin, end - begin);
}

}  // namespace glassbox::engine
