import ArgumentParser
import KeycardCompiler
import KeycardScenario

extension Enforcement: ExpressibleByArgument {}

extension Enforcement {
    /// The compiler's placement for this enforcement mode.
    var placement: Placement { self == .pod ? .pod : .node }
}
