import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxBuilder
import SwiftSyntaxMacros

/// `@FastJSON`: writes a `FastJSONDecodable` conformance that reads exactly what the synthesized `Decodable`
/// conformance reads, straight from the JSON bytes.
///
/// Structs: every stored property the synthesized conformance decodes (all stored properties, or the ones a nested
/// `CodingKeys` enum lists, under its keys), optionals (`T?`, `T!`, `Optional<T>`) absent or `null` as nil, `let`
/// properties with an initial value skipped. Enums: `String` or integer raw values, without associated values.
/// Shapes it cannot read the same way (a custom `init(from:)`, property wrappers, `lazy`, a `CodingKeys` with
/// members of its own, classes) are compile errors naming the declaration, rather than a silently different decoder.
public struct FastJSONMacro: ExtensionMacro {
    public static func expansion(
        of node: AttributeSyntax,
        attachedTo declaration: some DeclGroupSyntax,
        providingExtensionsOf type: some TypeSyntaxProtocol,
        conformingTo protocols: [TypeSyntax],
        in context: some MacroExpansionContext
    ) throws -> [ExtensionDeclSyntax] {
        let generated: Generated
        let access = accessModifier(of: declaration)
        if let structDecl = declaration.as(StructDeclSyntax.self) {
            guard let bodies = structBodies(structDecl, in: context) else { return [] }
            generated = bodies
        } else if let enumDecl = declaration.as(EnumDeclSyntax.self) {
            guard let bodies = enumBodies(enumDecl, in: context) else { return [] }
            generated = bodies
        } else {
            context.diagnose(
                Diagnostic(node: node, message: FastJSONDiagnostic.unsupportedDeclaration)
            )
            return []
        }
        // The encoder is written only for a type that declares its `Encodable` conformance (directly, through
        // `Codable` or `Event`) without a custom `encode(to:)`; other types encode through `Codable`.
        let encodeBody = declaresEncodable(declaration) ? generated.encode : nil
        let requested = Set(protocols.map { $0.trimmedDescription.split(separator: ".").last.map(String.init) ?? "" })
        var conformances: [String] = []
        if requested.contains("FastJSONDecodable") { conformances.append("DabbaEvents.FastJSONDecodable") }
        if encodeBody != nil, requested.contains("FastJSONEncodable") {
            conformances.append("DabbaEvents.FastJSONEncodable")
        }
        let conformance = conformances.isEmpty ? "" : ": " + conformances.joined(separator: ", ")
        let encoder = encodeBody.map { body in
            """

                \(access)func encode(fastJSON writer: inout DabbaEvents.FastJSONWriter) throws {
            \(body)
                }
            """
        } ?? ""
        let source: DeclSyntax = """
            extension \(type.trimmed)\(raw: conformance) {
                \(raw: access)init(fastJSON reader: inout DabbaEvents.FastJSONReader) throws {
            \(raw: generated.decode)
                }\(raw: encoder)
            }
            """
        guard let extensionDecl = source.as(ExtensionDeclSyntax.self) else { return [] }
        return [extensionDecl]
    }

    /// `public ` / `package ` when the type is that visible (a conformance's initializer must be), else nothing.
    static func accessModifier(of declaration: some DeclGroupSyntax) -> String {
        for modifier in declaration.modifiers {
            switch modifier.name.tokenKind {
            case .keyword(.public), .keyword(.open): return "public "
            case .keyword(.package): return "package "
            default: continue
            }
        }
        return ""
    }

    // MARK: Structs

    /// A stored property the synthesized conformance decodes.
    struct Field {
        let name: String
        let key: String
        let isOptional: Bool
    }

    /// A stored property as declared.
    struct StoredProperty {
        let name: String
        let isOptional: Bool
        let hasInitializer: Bool
        let isLet: Bool
    }

    /// The bodies of `init(fastJSON:)` and `encode(fastJSON:)` (the latter used only if ``declaresEncodable(_:)``).
    struct Generated {
        let decode: String
        let encode: String
    }

    /// Whether the declaration lists `Encodable`, `Codable` or `Event` among its inherited types (the encoder is only
    /// written then, since it needs the conformance and must not replace a custom `encode(to:)`).
    static func declaresEncodable(_ declaration: some DeclGroupSyntax) -> Bool {
        let inherited = declaration.inheritanceClause?.inheritedTypes ?? []
        let declares = inherited.contains { entry in
            let name = entry.type.trimmedDescription.split(separator: ".").last.map(String.init) ?? ""
            return ["Encodable", "Codable", "Event"].contains(name)
        }
        return declares && !declaration.memberBlock.members.contains { member in
            guard let function = member.decl.as(FunctionDeclSyntax.self), function.name.text == "encode" else {
                return false
            }
            let parameters = function.signature.parameterClause.parameters
            return parameters.count == 1 && parameters.first?.firstName.text == "to"
        }
    }

    static func structBodies(_ decl: StructDeclSyntax, in context: some MacroExpansionContext) -> Generated? {
        var problems: [Diagnostic] = []
        var codingKeys: [String: String]?
        var stored: [StoredProperty] = []
        for member in decl.memberBlock.members {
            if let initializer = member.decl.as(InitializerDeclSyntax.self), isDecodingInitializer(initializer) {
                problems.append(Diagnostic(node: initializer, message: FastJSONDiagnostic.customDecodingInitializer))
            }
            if let nested = member.decl.as(EnumDeclSyntax.self), nested.name.text == "CodingKeys" {
                codingKeys = parseCodingKeys(nested, problems: &problems)
                continue
            }
            guard let variable = member.decl.as(VariableDeclSyntax.self) else { continue }
            if variable.modifiers.contains(where: { [.keyword(.static), .keyword(.class)].contains($0.name.tokenKind) }) {
                continue
            }
            if variable.modifiers.contains(where: { $0.name.tokenKind == .keyword(.lazy) }) {
                problems.append(Diagnostic(node: variable, message: FastJSONDiagnostic.lazyProperty))
                continue
            }
            if !variable.attributes.isEmpty {
                problems.append(Diagnostic(node: variable, message: FastJSONDiagnostic.propertyWrapper))
                continue
            }
            let isLet = variable.bindingSpecifier.tokenKind == .keyword(.let)
            // `var a, b: Int`: a binding without a type annotation (nor an initial value) takes the next one's.
            var nextType: TypeSyntax?
            var properties: [StoredProperty] = []
            for binding in variable.bindings.reversed() {
                if let accessors = binding.accessorBlock, isComputed(accessors) { continue }
                guard let pattern = binding.pattern.as(IdentifierPatternSyntax.self) else {
                    problems.append(Diagnostic(node: binding, message: FastJSONDiagnostic.unsupportedPattern))
                    continue
                }
                if let annotation = binding.typeAnnotation?.type { nextType = annotation }
                let type = binding.typeAnnotation?.type ?? (binding.initializer == nil ? nextType : nil)
                properties.append(
                    StoredProperty(
                        name: pattern.identifier.text.trimmingBackticks, isOptional: type.map(isOptional) ?? false,
                        hasInitializer: binding.initializer != nil, isLet: isLet
                    )
                )
            }
            stored += properties.reversed()
        }
        guard problems.isEmpty else {
            for problem in problems { context.diagnose(problem) }
            return nil
        }
        var decoded: [Field] = []
        var encoded: [Field] = []
        for property in stored {
            let key: String
            if let codingKeys {
                guard let mapped = codingKeys[property.name] else { continue }
                key = mapped
            } else {
                key = property.name
            }
            let field = Field(name: property.name, key: key, isOptional: property.isOptional)
            encoded.append(field)
            // The synthesized `Decodable` conformance leaves a `let` with an initial value alone (`Encodable` writes it).
            if !(property.isLet && property.hasInitializer) { decoded.append(field) }
        }
        return Generated(decode: readObject(decoded), encode: writeObject(encoded))
    }

    /// The body of `encode(fastJSON:)` for a struct's fields: each member's value by its index among the keys, in the
    /// order the writer asks for them (the order `JSONEncoder` sorts the keys in); `nil` optionals left out.
    static func writeObject(_ fields: [Field]) -> String {
        var lines: [String] = []
        let keys = fields.map { stringLiteral($0.key) }.joined(separator: ", ")
        lines.append("try writer.writeObject(Self.self, keys: [\(keys)]) { __fastJSON_index, writer in")
        lines.append("    switch __fastJSON_index {")
        for (index, field) in fields.enumerated() {
            lines.append("    case \(index):")
            if field.isOptional {
                lines.append("        guard let __fastJSON_value = self.\(field.name) else { return false }")
                lines.append("        try writer.encode(__fastJSON_value)")
            } else {
                lines.append("        try writer.encode(self.\(field.name))")
            }
            lines.append("        return true")
        }
        lines.append("    default:")
        lines.append("        return false")
        lines.append("    }")
        lines.append("}")
        return lines.map { "        " + $0 }.joined(separator: "\n")
    }

    /// The body of `init(fastJSON:)` for a struct's fields. Property types are never spelled: each value's type comes
    /// from a closure reading the property (`Self` resolves where a nested type's own name might not), so overload
    /// resolution picks the reader's method for it at compile time.
    static func readObject(_ fields: [Field]) -> String {
        var lines: [String] = []
        func slot(_ field: Field) -> String { "__fastJSON_slot_\(field.name)" }
        for field in fields {
            lines.append(
                "var \(slot(field)) = DabbaEvents.FastJSONSlot(of: { (__fastJSON_self: Self) in __fastJSON_self.\(field.name) })"
            )
        }
        if !fields.isEmpty { lines.append("var __fastJSON_seenKeys = DabbaEvents.FastJSONSeenKeys()") }
        lines.append("try reader.beginObject()")
        lines.append("while let __fastJSON_memberKey = try reader.nextKey() {")
        lines.append("    switch __fastJSON_memberKey {")
        for (index, field) in fields.enumerated() {
            let read =
                field.isOptional
                ? "reader.decodeIfPresent(\(slot(field)).wrappedType)" : "reader.decode(\(slot(field)).type)"
            lines.append("    case \(stringLiteral(field.key)):")
            lines.append("        try DabbaEvents.FastJSONReader.markSeen(&__fastJSON_seenKeys, \(index))")
            lines.append("        \(slot(field)).value = try \(read)")
        }
        lines.append("    default:")
        lines.append("        try reader.skipValue()")
        lines.append("    }")
        lines.append("}")
        for field in fields {
            if field.isOptional {
                lines.append("self.\(field.name) = \(slot(field)).value ?? nil")
            } else {
                lines.append("guard let __fastJSON_read_\(field.name) = \(slot(field)).value else {")
                lines.append("    throw DabbaEvents.FastJSONReader.unsupported()")
                lines.append("}")
                lines.append("self.\(field.name) = __fastJSON_read_\(field.name)")
            }
        }
        return lines.map { "        " + $0 }.joined(separator: "\n")
    }

    /// `init(from decoder: Decoder)`: a custom decoding the macro cannot mirror.
    static func isDecodingInitializer(_ initializer: InitializerDeclSyntax) -> Bool {
        let parameters = initializer.signature.parameterClause.parameters
        guard parameters.count == 1, let parameter = parameters.first else { return false }
        return parameter.firstName.text == "from"
    }

    /// Whether an accessor block makes a computed property (observers alone keep it stored).
    static func isComputed(_ accessors: AccessorBlockSyntax) -> Bool {
        switch accessors.accessors {
        case .getter: return true
        case .accessors(let list):
            return list.contains { accessor in
                ![.keyword(.willSet), .keyword(.didSet)].contains(accessor.accessorSpecifier.tokenKind)
            }
        }
    }

    /// Whether a type is spelled as an optional: `T?`, `T!` or `Optional<T>`.
    static func isOptional(_ type: TypeSyntax) -> Bool {
        if type.is(OptionalTypeSyntax.self) || type.is(ImplicitlyUnwrappedOptionalTypeSyntax.self) { return true }
        if let identifier = type.as(IdentifierTypeSyntax.self), identifier.name.text == "Optional",
            identifier.genericArgumentClause?.arguments.count == 1
        {
            return true
        }
        return false
    }

    /// Property name → key for a `CodingKeys` enum of plain cases (`case id`, `case orderID = "order_id"`).
    static func parseCodingKeys(_ decl: EnumDeclSyntax, problems: inout [Diagnostic]) -> [String: String] {
        func fail(_ node: some SyntaxProtocol, _ message: FastJSONDiagnostic) {
            problems.append(Diagnostic(node: node, message: message))
        }
        var keys: [String: String] = [:]
        for member in decl.memberBlock.members {
            guard let cases = member.decl.as(EnumCaseDeclSyntax.self) else {
                fail(member, .customCodingKeys)
                continue
            }
            for element in cases.elements {
                let name = element.name.text.trimmingBackticks
                if let raw = element.rawValue {
                    guard let literal = raw.value.as(StringLiteralExprSyntax.self),
                        let text = literal.representedLiteralValue
                    else {
                        fail(element, .customCodingKeys)
                        continue
                    }
                    keys[name] = text
                } else if element.parameterClause != nil {
                    fail(element, .customCodingKeys)
                } else {
                    keys[name] = name
                }
            }
        }
        return keys
    }

    // MARK: Enums

    static func enumBodies(_ decl: EnumDeclSyntax, in context: some MacroExpansionContext) -> Generated? {
        let rawTypes = ["String", "Int", "Int64", "Int32", "UInt", "UInt64"]
        guard let first = decl.inheritanceClause?.inheritedTypes.first?.type.trimmedDescription,
            rawTypes.contains(first)
        else {
            context.diagnose(Diagnostic(node: decl.name, message: FastJSONDiagnostic.enumWithoutRawValues))
            return nil
        }
        for member in decl.memberBlock.members {
            if let cases = member.decl.as(EnumCaseDeclSyntax.self),
                let element = cases.elements.first(where: { $0.parameterClause != nil })
            {
                context.diagnose(Diagnostic(node: element, message: FastJSONDiagnostic.enumWithAssociatedValues))
                return nil
            }
            if let initializer = member.decl.as(InitializerDeclSyntax.self), isDecodingInitializer(initializer) {
                context.diagnose(Diagnostic(node: initializer, message: FastJSONDiagnostic.customDecodingInitializer))
                return nil
            }
        }
        let decode = """
                    guard let value = Self(rawValue: try reader.decode(Self.RawValue.self)) else {
                        throw DabbaEvents.FastJSONReader.unsupported()
                    }
                    self = value
            """
        return Generated(decode: decode, encode: "        try writer.encode(self.rawValue)")
    }

    /// A Swift string literal for a key.
    static func stringLiteral(_ text: String) -> String {
        var literal = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": literal += "\\\""
            case "\\": literal += "\\\\"
            case "\n": literal += "\\n"
            case "\r": literal += "\\r"
            case "\t": literal += "\\t"
            default:
                if scalar.value < 0x20 {
                    literal += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    literal.unicodeScalars.append(scalar)
                }
            }
        }
        return literal + "\""
    }
}

extension String {
    /// `` `default` `` → `default`.
    var trimmingBackticks: String {
        hasPrefix("`") && hasSuffix("`") && count >= 2 ? String(dropFirst().dropLast()) : self
    }
}

/// What `@FastJSON` refuses, and why.
enum FastJSONDiagnostic: String, DiagnosticMessage {
    case unsupportedDeclaration
    case customDecodingInitializer
    case lazyProperty
    case propertyWrapper
    case unsupportedPattern
    case customCodingKeys
    case enumWithoutRawValues
    case enumWithAssociatedValues

    var message: String {
        switch self {
        case .unsupportedDeclaration:
            "@FastJSON applies to structs and to enums with String or integer raw values"
        case .customDecodingInitializer:
            "@FastJSON cannot be combined with a custom init(from:): it reads what the synthesized Decodable "
                + "conformance reads; remove @FastJSON to decode through this initializer"
        case .lazyProperty:
            "@FastJSON does not support lazy properties (the synthesized Decodable conformance cannot decode them either)"
        case .propertyWrapper:
            "@FastJSON does not support property wrappers or attributes on stored properties; remove @FastJSON to "
                + "decode this type through Codable"
        case .unsupportedPattern:
            "@FastJSON needs one name per stored property (no tuple patterns)"
        case .customCodingKeys:
            "@FastJSON reads CodingKeys enums of plain cases with string raw values only; remove @FastJSON to decode "
                + "through this CodingKeys"
        case .enumWithoutRawValues:
            "@FastJSON on an enum needs String or integer raw values (String, Int, Int64, Int32, UInt, UInt64) as its "
                + "first inherited type"
        case .enumWithAssociatedValues:
            "@FastJSON does not support enum cases with associated values; remove @FastJSON to decode through Codable"
        }
    }

    var diagnosticID: MessageID { MessageID(domain: "DabbaEventMacros", id: rawValue) }
    var severity: DiagnosticSeverity { .error }
}
