import Yams

/// Turns Yams parse errors into located ``CatalogError``s.
enum YAMLErrors {
    /// The catalog error for a failed `compose`.
    /// - Parameters:
    ///   - error: What Yams threw.
    ///   - yaml: The text that was parsed.
    ///   - file: The display path.
    /// - Returns: A `yamlSyntax` error at the line Yams reported.
    static func catalogError(for error: any Error, yaml: String, file: String) -> CatalogError {
        guard let yamlError = error as? YamlError else {
            return CatalogError(code: .yamlSyntax, file: file, line: 0, column: 0, message: "\(error)")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            return CatalogError(code: .yamlSyntax, file: file, line: mark.line, column: mark.column, message: message)
        case .reader(let problem, let offset, _, _):
            let (line, column) = offset.map { position(ofCharacterOffset: $0, in: yaml) } ?? (0, 0)
            return CatalogError(
                code: .yamlSyntax,
                file: file,
                line: line,
                column: column,
                message: "invalid YAML: \(problem)"
            )
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let first = context.mark
            let repeated = repeatedKeyPosition(key, after: first, in: yaml) ?? (first.line, first.column)
            return CatalogError(
                code: .yamlSyntax,
                file: file,
                line: repeated.line,
                column: repeated.column,
                message: "duplicate key '\(key)' in one mapping (first at line \(first.line))"
            )
        default:
            return CatalogError(code: .yamlSyntax, file: file, line: 0, column: 0, message: "\(yamlError)")
        }
    }

    /// Line and column (from 1) of a character offset.
    private static func position(ofCharacterOffset offset: Int, in text: String) -> (Int, Int) {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    /// Where `key` appears again as a block mapping key at the same column as its first occurrence.
    private static func repeatedKeyPosition(_ key: String, after first: Mark, in yaml: String) -> (
        line: Int, column: Int
    )? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line < lines.count else { return nil }
        let candidates = [key + ":", "\"\(key)\":", "'\(key)':"]
        for index in first.line..<lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            let start = first.column - 1
            guard start <= scalars.count,
                scalars[..<start].allSatisfy({ $0 == " " || $0 == "-" })
            else { continue }
            let rest = String(String.UnicodeScalarView(scalars[start...]))
            if candidates.contains(where: { rest.hasPrefix($0) }) { return (index + 1, first.column) }
        }
        return nil
    }
}
