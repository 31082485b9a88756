/// A position in a catalog file, as shown in error messages and kept on every catalog entity.
///
/// `file` is the path as it should be shown to a person: relative to the directory the catalog was loaded
/// relative to (by default the current directory) when the file lies under it, otherwise absolute.
/// `line` and `column` count from 1; column counts Unicode scalars.
public struct CatalogLocation: Sendable, Hashable, CustomStringConvertible {
    /// The display path of the file, for example `Topics/payments.asyncapi.yaml`.
    public var file: String
    /// The line, counting from 1.
    public var line: Int
    /// The column, counting from 1.
    public var column: Int

    /// Creates a location.
    /// - Parameters:
    ///   - file: The display path of the file.
    ///   - line: The line, counting from 1.
    ///   - column: The column, counting from 1.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form compilers and editors understand.
    public var description: String { "\(file):\(line):\(column)" }
}
