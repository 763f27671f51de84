/// Character-by-character escaping, one loop for every renderer (XML, HTML, Markdown, DOT).
enum TextEscaping {
    /// `text` with each character that `replacement` maps replaced by what it returns ("" drops
    /// the character); a character it maps to nil is kept.
    static func escaped(_ text: String, _ replacement: (Character) -> String?) -> String {
        var out = ""
        for character in text {
            if let replaced = replacement(character) { out += replaced } else { out.append(character) }
        }
        return out
    }

    /// `&`, `<` and `>` as XML and HTML character references (XML 1.0 §2.4); nil for any other
    /// character.
    static func markupReference(_ character: Character) -> String? {
        switch character {
        case "&": "&amp;"
        case "<": "&lt;"
        case ">": "&gt;"
        default: nil
        }
    }
}
