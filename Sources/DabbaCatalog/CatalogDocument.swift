import DabbaSchema
import Foundation

/// One AsyncAPI document of the catalog: one file, one domain.
public struct CatalogDocument: Sendable {
    /// The file the document was loaded from.
    public var url: URL
    /// The display path of the file (see ``CatalogLocation/file``).
    public var path: String
    /// The domain, the file name without `.asyncapi.yaml` (for example `payments`).
    public var domain: String
    /// The document's `info.title`.
    public var title: String
    /// The document's `info.version`.
    public var version: String
    /// The document's `asyncapi` version, for example `3.0.0`.
    public var asyncAPIVersion: String
    /// The whole document as JSON, against which its `$ref`s resolve.
    public var content: JSONValue

    /// Creates a document description.
    /// - Parameters:
    ///   - url: The file.
    ///   - path: The display path.
    ///   - domain: The domain.
    ///   - title: `info.title`.
    ///   - version: `info.version`.
    ///   - asyncAPIVersion: The `asyncapi` version.
    ///   - content: The document as JSON.
    public init(
        url: URL,
        path: String,
        domain: String,
        title: String,
        version: String,
        asyncAPIVersion: String,
        content: JSONValue
    ) {
        self.url = url
        self.path = path
        self.domain = domain
        self.title = title
        self.version = version
        self.asyncAPIVersion = asyncAPIVersion
        self.content = content
    }
}
