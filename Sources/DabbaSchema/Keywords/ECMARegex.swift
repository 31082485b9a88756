import Foundation

/// An ECMA-262 regular expression evaluated with `NSRegularExpression` (ICU).
///
/// ICU's syntax is close to ECMA-262 but differs in a few places that matter
/// for schemas; the pattern is rewritten so the ECMA meaning holds:
/// - `\d`, `\w`, `\D`, `\W` are ASCII-only in ECMA but Unicode-aware in ICU;
///   `\s`/`\S` in ECMA also cover U+FEFF, which ICU's do not.
/// - `$` matches only at the very end of input in ECMA (no multiline flag),
///   while ICU also matches before a final line terminator; it becomes `\z`.
/// - `[` inside a class is literal in ECMA but starts a nested set in ICU.
/// Matching is an unanchored search, as the spec requires.
struct ECMARegex: Sendable {
    /// The pattern as written in the schema.
    let pattern: String
    // NSRegularExpression is immutable and documented as thread-safe.
    private let expression: NSRegularExpression

    init(_ pattern: String) throws {
        self.pattern = pattern
        expression = try NSRegularExpression(pattern: Self.translate(pattern), options: [])
    }

    /// Whether a string matches, or that it could not be decided within the matching budget.
    enum Outcome {
        case match, noMatch
        /// The search ran past the budget: the pattern backtracks catastrophically on this string (`^(a|aa)+$` on
        /// `aaaa…c` takes exponential time). The string comes from outside, so validation must not hang on it.
        case undecided
    }

    /// Searches `text` (unanchored), giving up after about `max(1,000,000, 100 × length)` steps of ICU's matcher:
    /// far beyond what any pattern needs on a string it handles in linear time.
    func match(_ text: String) -> Outcome {
        let length = text.utf16.count
        // ICU reports progress every 10,000 steps of its backtracking matcher.
        let allowedReports = max(100, length / 100)
        var reports = 0
        var outcome = Outcome.noMatch
        expression.enumerateMatches(
            in: text, options: [.reportProgress], range: NSRange(location: 0, length: length)
        ) { result, flags, stop in
            if result != nil {
                outcome = .match
                stop.pointee = true
            } else if flags.contains(.progress) {
                reports += 1
                if reports > allowedReports {
                    outcome = .undecided
                    stop.pointee = true
                }
            }
        }
        return outcome
    }

    /// Rewrites ECMA-262 constructs whose ICU meaning differs (see type docs).
    /// Works on Unicode scalars, not Characters, so a backslash followed by a
    /// combining mark is not merged into one grapheme.
    static func translate(_ pattern: String) -> String {
        let scalars = Array(pattern.unicodeScalars)
        var output = String.UnicodeScalarView()
        func emit(_ text: String) { output.append(contentsOf: text.unicodeScalars) }
        var index = 0
        var inClass = false
        var atClassStart = false
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            if scalar == "\\" {
                guard index < scalars.count else {
                    output.append(scalar)
                    continue
                }
                let escaped = scalars[index]
                index += 1
                atClassStart = false
                if let replacement = characterClassEscape(escaped, inClass: inClass) {
                    emit(replacement)
                } else {
                    output.append(scalar)
                    output.append(escaped)
                }
                continue
            }
            if inClass {
                if atClassStart {
                    atClassStart = false
                    if scalar == "]" {
                        // ECMA "[]" matches nothing and "[^]" anything; ICU rejects both.
                        let negated = output.last == "^"
                        output.removeLast(negated ? 2 : 1)
                        emit(negated ? "[\\s\\S]" : "(?!)")
                        inClass = false
                        continue
                    }
                }
                switch scalar {
                case "[": emit("\\[")  // literal in ECMA, nested set in ICU
                case "&": emit("\\&")  // "&&" is intersection in ICU
                case "]":
                    inClass = false
                    output.append(scalar)
                default:
                    output.append(scalar)
                }
            } else {
                switch scalar {
                case "[":
                    inClass = true
                    atClassStart = true
                    output.append(scalar)
                    if index < scalars.count, scalars[index] == "^" {
                        output.append("^")
                        index += 1
                    }
                case "$":
                    emit("\\z")  // end of input only, as in ECMA without the m flag
                default:
                    output.append(scalar)
                }
            }
        }
        return String(output)
    }

    /// ICU spelling of an ECMA class escape (`\d`, `\w`, `\s` and negations).
    private static func characterClassEscape(_ escaped: Unicode.Scalar, inClass: Bool) -> String? {
        switch escaped {
        case "d": return inClass ? "0-9" : "[0-9]"
        case "w": return inClass ? "A-Za-z0-9_" : "[A-Za-z0-9_]"
        case "s": return inClass ? "\\s\\x{FEFF}" : "[\\s\\x{FEFF}]"
        // Negations are nested sets; inside a class ICU unions them with the rest.
        case "D": return "[^0-9]"
        case "W": return "[^A-Za-z0-9_]"
        case "S": return "[^\\s\\x{FEFF}]"
        default: return nil
        }
    }
}
