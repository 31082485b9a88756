import DabbaSchema
import Foundation
import Yams

extension Catalog {
    /// The file name endings of catalog documents.
    public static let fileExtensions = [".asyncapi.yaml", ".asyncapi.yml"]

    /// Loads every `*.asyncapi.yaml` and `*.asyncapi.yml` file of a directory (not of its subdirectories),
    /// in file-name order, and validates them together.
    ///
    /// - Parameters:
    ///   - directory: The catalog directory, usually the repository's `Topics/`.
    ///   - base: Error messages show file paths relative to this directory when the files lie under it
    ///     (default: the current directory).
    /// - Returns: The catalog.
    /// - Throws: ``CatalogErrors`` holding every problem found: `fileNotFound` when the directory does not exist,
    ///   `noCatalogFiles` when it holds no catalog file, and any problem of ``load(files:relativeTo:)``.
    public static func load(directory: URL, relativeTo base: URL? = nil) throws -> Catalog {
        try load(files: catalogFiles(in: directory, relativeTo: base), relativeTo: base)
    }

    /// The catalog files of a directory, sorted by name.
    /// - Parameters:
    ///   - directory: The catalog directory.
    ///   - base: The directory error paths are relative to (default: the current directory).
    /// - Returns: The `*.asyncapi.yaml` and `*.asyncapi.yml` files directly inside `directory`.
    /// - Throws: ``CatalogErrors`` with `fileNotFound` or `noCatalogFiles`.
    public static func catalogFiles(in directory: URL, relativeTo base: URL? = nil) throws -> [URL] {
        let path = displayPath(of: directory, relativeTo: base)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw CatalogErrors([
                CatalogError(
                    code: .fileNotFound,
                    file: path,
                    line: 0,
                    column: 0,
                    message: "catalog directory '\(path)' does not exist"
                )
            ])
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw CatalogErrors([
                CatalogError(
                    code: .fileNotFound,
                    file: path,
                    line: 0,
                    column: 0,
                    message: "cannot read catalog directory '\(path)': \(error.localizedDescription)"
                )
            ])
        }
        let files = names.filter { name in fileExtensions.contains { name.hasSuffix($0) } }.sorted()
        guard !files.isEmpty else {
            throw CatalogErrors([
                CatalogError(
                    code: .noCatalogFiles,
                    file: path,
                    line: 0,
                    column: 0,
                    message: "no catalog files (*.asyncapi.yaml) in '\(path)'"
                )
            ])
        }
        return files.map { directory.appendingPathComponent($0) }
    }

    /// Loads the given catalog files, in the given order, and validates them together.
    ///
    /// Every problem of every file is collected (YAML syntax, structure, references, duplicates across files,
    /// schemas, examples, retry policies, topic names) before failing.
    /// - Parameters:
    ///   - files: The AsyncAPI 3 YAML documents.
    ///   - base: Error messages show file paths relative to this directory when the files lie under it
    ///     (default: the current directory).
    /// - Returns: The catalog.
    /// - Throws: ``CatalogErrors`` holding every problem, sorted by file and position.
    public static func load(files: [URL], relativeTo base: URL? = nil) throws -> Catalog {
        var sources: [(url: URL, path: String, text: String?)] = []
        var errors: [CatalogError] = []
        if files.isEmpty {
            errors.append(
                CatalogError(
                    code: .noCatalogFiles,
                    file: "",
                    line: 0,
                    column: 0,
                    message: "no catalog files were given"
                )
            )
        }
        for url in files {
            let path = displayPath(of: url, relativeTo: base)
            do {
                let data = try Data(contentsOf: url)
                guard let text = String(data: data, encoding: .utf8) else {
                    errors.append(
                        CatalogError(
                            code: .yamlSyntax,
                            file: path,
                            line: 0,
                            column: 0,
                            message: "the file is not UTF-8 text"
                        )
                    )
                    continue
                }
                sources.append((url, path, text))
            } catch {
                errors.append(
                    CatalogError(
                        code: .fileNotFound,
                        file: path,
                        line: 0,
                        column: 0,
                        message: "cannot read catalog file '\(path)'"
                    )
                )
            }
        }
        return try load(sources: sources.map { ($0.url, $0.path, $0.text ?? "") }, earlierErrors: errors)
    }

    /// Loads a catalog from one YAML document held in memory, for tests and tools.
    /// - Parameters:
    ///   - yaml: An AsyncAPI 3 YAML document.
    ///   - path: The path to show in error messages and to take the domain from.
    /// - Returns: The catalog.
    /// - Throws: ``CatalogErrors`` holding every problem.
    public static func load(yaml: String, path: String = "inline.asyncapi.yaml") throws -> Catalog {
        try load(sources: [(URL(fileURLWithPath: path), path, yaml)], earlierErrors: [])
    }

    private static func load(sources: [(url: URL, path: String, text: String)], earlierErrors: [CatalogError])
        throws -> Catalog
    {
        var errors = earlierErrors
        var parsed: [ParsedDocument] = []
        for source in sources {
            let (document, documentErrors) = parseDocument(source.text, url: source.url, path: source.path)
            errors.append(contentsOf: documentErrors)
            if let document { parsed.append(document) }
        }
        var linker = CatalogLinker()
        let catalog = linker.link(parsed)
        errors.append(contentsOf: linker.errors)
        guard errors.isEmpty else {
            throw CatalogErrors(sorted(errors, fileOrder: sources.map(\.path)))
        }
        return catalog
    }

    /// Parses one file's text.
    private static func parseDocument(_ text: String, url: URL, path: String) -> (ParsedDocument?, [CatalogError]) {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, .basic)
        } catch {
            return (nil, [YAMLErrors.catalogError(for: error, yaml: text, file: path)])
        }
        guard let node else {
            return (
                nil,
                [
                    CatalogError(
                        code: .invalidDocument,
                        file: path,
                        line: 1,
                        column: 1,
                        message: "the file is empty; expected an AsyncAPI 3 document"
                    )
                ]
            )
        }
        var converter = YAMLConverter()
        let root = converter.convert(node)
        let reader = DocumentReader(file: path, root: root, sourceMap: converter.sourceMap)
        for issue in converter.issues {
            reader.error(
                .yamlSyntax,
                at: CatalogLocation(
                    file: path,
                    line: issue.position.line,
                    column: issue.position.column
                ),
                issue.message
            )
        }
        let parser = DocumentParser(reader: reader, url: url, domain: domain(of: url))
        let document = parser.parse()
        return (document, parser.errors)
    }

    /// The domain of a catalog file: its name without the catalog extension.
    static func domain(of url: URL) -> String {
        let name = url.lastPathComponent
        for suffix in fileExtensions + [".yaml", ".yml"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }

    /// A file path for messages: relative to `base` (default: the current directory) when under it.
    static func displayPath(of url: URL, relativeTo base: URL?) -> String {
        let path = url.standardizedFileURL.path
        let basePath = (base ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
        let prefix = basePath.hasSuffix("/") ? basePath : basePath + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// Errors without duplicates, by file (in load order) and then by position.
    private static func sorted(_ errors: [CatalogError], fileOrder: [String]) -> [CatalogError] {
        var seen: Set<CatalogError> = []
        let unique = errors.filter { seen.insert($0).inserted }
        let order = Dictionary(fileOrder.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        return unique.enumerated().sorted { lhs, rhs in
            let left = (order[lhs.element.file] ?? -1, lhs.element.line, lhs.element.column, lhs.offset)
            let right = (order[rhs.element.file] ?? -1, rhs.element.line, rhs.element.column, rhs.offset)
            return left < right
        }.map(\.element)
    }
}
