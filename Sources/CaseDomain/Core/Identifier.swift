/// The rule for identifiers clients choose: stream ids (`streamId` of a command) and the id
/// members of command payloads (`caseID`, `organisationID`, `contactID`, `commentID`, …).
///
/// An identifier is 1 to ``maxBytes`` (200) bytes of UTF-8 text without control characters:
/// no code point in U+0000–U+001F or U+007F–U+009F (Unicode general category Cc). Every
/// other character, including spaces and non-ASCII letters, is allowed. `schemas/openapi.yaml`
/// (`maxLength` of `streamId`) and the command schemas (`maxLength` of every id property)
/// say the same; `maxLength` counts characters, so the byte limit is the stricter one for
/// non-ASCII text.
///
/// Errors about an identifier never repeat it: a long one could be a megabyte, echoed back
/// in every response. They give its length and the offending position instead.
public enum Identifier {
    /// Longest identifier, in UTF-8 bytes.
    public static let maxBytes = 200

    /// What is wrong with `id` (worded to follow its name, e.g. "is 1048576 bytes long; …"),
    /// or `nil` when it follows the rule. The text never contains `id` itself.
    public static func problem(_ id: String) -> String? {
        let count = id.utf8.count
        if count == 0 { return "must not be empty" }
        if count > maxBytes { return "is \(count) bytes long; at most \(maxBytes) bytes of UTF-8 are allowed" }
        var offset = 0
        for scalar in id.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                let code = String(scalar.value, radix: 16, uppercase: true)
                return "contains the control character U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code) at byte \(offset); "
                    + "identifiers are printable text"
            }
            offset += String(scalar).utf8.count
        }
        return nil
    }

    /// `text` itself when it is short printable text (at most `limit` bytes), else a
    /// description by length (`a string of 1048576 bytes`): what an error message may repeat
    /// of a client's string.
    public static func echo(_ text: String, limit: Int = 64) -> String {
        let count = text.utf8.count
        if count <= limit, !text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            return text
        }
        return "a string of \(count) bytes"
    }
}
