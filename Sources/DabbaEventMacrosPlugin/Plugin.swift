import SwiftCompilerPlugin
import SwiftSyntaxMacros

/// The compiler plugin providing Dabba's macros.
@main
struct DabbaEventMacrosPlugin: CompilerPlugin {
    let providingMacros: [any Macro.Type] = [FastJSONMacro.self]
}
