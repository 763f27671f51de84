import ArgumentParser
import KeycardScenario

extension Enforcement: ExpressibleByArgument {}
