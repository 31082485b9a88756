import DabbaSchema

/// Checks on the JSON Schemas embedded in a document: references, compilation, and key fields.
enum SchemaChecks {
    /// Keywords whose values are data, not schemas: `$ref`s inside them are not references.
    private static let dataKeywords: Set<String> = ["enum", "const", "default", "examples", "example"]

    /// Records a `missingReference` for every `$ref` in the schema at `pointer`, or in a schema it references,
    /// that does not resolve inside the document.
    /// - Parameters:
    ///   - pointer: The schema's pointer.
    ///   - reader: The document reader.
    ///   - visited: Schemas already checked (so shared and recursive schemas are checked once).
    /// - Returns: Whether every reference resolved.
    @discardableResult
    static func checkReferences(at pointer: JSONPointer, reader: DocumentReader, visited: inout Set<JSONPointer>)
        -> Bool
    {
        guard visited.insert(pointer).inserted, let value = reader.value(pointer) else { return true }
        var resolved = true
        switch value {
        case .object(let object):
            for (key, child) in object {
                let childPointer = pointer.appending(key)
                if key == "$ref", case .string(let text) = child {
                    // Anchor and `$id`-relative references are left to the schema compiler.
                    guard text.hasPrefix("#/") || text == "#", let target = JSONPointer(reference: text) else {
                        continue
                    }
                    guard reader.value(target) != nil else {
                        reader.error(.missingReference, at: childPointer, "schema '\(text)' does not exist")
                        resolved = false
                        continue
                    }
                    resolved = checkReferences(at: target, reader: reader, visited: &visited) && resolved
                } else if !dataKeywords.contains(key) {
                    resolved = checkReferences(at: childPointer, reader: reader, visited: &visited) && resolved
                }
            }
        case .array(let array):
            for index in array.indices {
                resolved = checkReferences(at: pointer.appending(index), reader: reader, visited: &visited) && resolved
            }
        default:
            break
        }
        return resolved
    }

    /// Compiles the schema at `pointer` against the whole document.
    /// - Parameters:
    ///   - pointer: The schema's pointer.
    ///   - reader: The document reader, which records an `invalidSchema` error located at the offending keyword.
    ///   - subject: What the schema is, for messages (`payload schema of 'x'`).
    /// - Returns: The compiled schema, or `nil` when it is invalid.
    static func compile(at pointer: JSONPointer, reader: DocumentReader, subject: String) -> JSONSchema? {
        guard let schema = reader.value(pointer) else { return nil }
        do {
            return try JSONSchema(schema, in: reader.root, at: pointer.description)
        } catch let error as SchemaError {
            let location = locate(schemaPointer: error.pointer, in: pointer, reader: reader)
            let code: CatalogError.Code = error.code == .unresolvedReference ? .missingReference : .invalidSchema
            reader.error(code, at: location, "invalid \(subject): \(error.message)")
            return nil
        } catch {
            reader.error(.invalidSchema, at: pointer, "invalid \(subject): \(error)")
            return nil
        }
    }

    /// Maps a pointer reported by the schema library, absolute in the document or relative to the schema, to
    /// the closest line.
    private static func locate(schemaPointer text: String, in schema: JSONPointer, reader: DocumentReader)
        -> CatalogLocation
    {
        let trimmed = text.hasPrefix("#") ? String(text.dropFirst()) : text
        guard let reported = JSONPointer(trimmed) else { return reader.location(schema) }
        if reader.exists(reported) { return reader.keyLocation(reported) }
        let relative = schema.appending(reported)
        if reader.exists(relative) { return reader.keyLocation(relative) }
        if reported.hasPrefix(schema) || reported.tokens.first == "components" { return reader.location(reported) }
        return reader.location(relative)
    }

    /// Whether a field is declared by (and required in) an object schema, following `$ref`, `allOf`, `anyOf`
    /// and `oneOf`.
    /// - Parameters:
    ///   - field: The field's pointer inside the payload.
    ///   - schema: The payload schema's pointer.
    ///   - root: The document.
    /// - Returns: `declared` when some branch lists the field under `properties`; `required` when every level is
    ///   listed in a `required` of a branch that always applies (the schema itself, a `$ref` or an `allOf`).
    static func fieldStatus(_ field: JSONPointer, in schema: JSONPointer, root: JSONValue) -> (
        declared: Bool, required: Bool
    ) {
        var current = expand([(schema, true)], root: root)
        var required = true
        for token in field.tokens {
            var next: [(JSONPointer, Bool)] = []
            var levelRequired = false
            for (pointer, always) in current {
                guard case .object(let object)? = root.resolve(pointer) else { continue }
                if always, case .array(let names)? = object["required"], names.contains(.string(token)) {
                    levelRequired = true
                }
                if case .object(let properties)? = object["properties"], properties[token] != nil {
                    next.append((pointer.appending("properties").appending(token), always))
                }
            }
            if next.isEmpty { return (false, false) }
            required = required && levelRequired
            current = expand(next, root: root)
        }
        return (true, required)
    }

    /// The schema pointers that apply at one place: each schema plus, recursively, its `$ref` target and its
    /// `allOf` (always applying) and `anyOf`/`oneOf` (maybe applying) branches.
    private static func expand(_ schemas: [(JSONPointer, Bool)], root: JSONValue) -> [(JSONPointer, Bool)] {
        var result: [(JSONPointer, Bool)] = []
        var pending = schemas
        var seen: Set<JSONPointer> = []
        while let (pointer, always) = pending.popLast() {
            guard seen.insert(pointer).inserted, case .object(let object)? = root.resolve(pointer) else { continue }
            result.append((pointer, always))
            if case .string(let text)? = object["$ref"], let target = JSONPointer(reference: text) {
                pending.append((target, always))
            }
            for (keyword, applies) in [("allOf", always), ("anyOf", false), ("oneOf", false)] {
                if case .array(let branches)? = object[keyword] {
                    for index in branches.indices {
                        pending.append((pointer.appending(keyword).appending(index), applies))
                    }
                }
            }
        }
        return result
    }
}
