import KeycardKernel
import Testing

struct KernelRequirementsTests {
    @Test(arguments: [
        ("6.18.44-fc-v669", "6.18.44"), ("5.6", "5.6.0"), ("6.12.48+deb13-amd64", "6.12.48"), ("4.19.0-27-amd64", "4.19.0"),
    ])
    func parsesReleases(_ release: String, _ expected: String) {
        #expect(KernelRequirements.Version(release: release)?.description == expected)
    }

    @Test func refusesWhatIsNotARelease() { #expect(KernelRequirements.Version(release: "linux") == nil) }

    @Test(arguments: [
        ("6.18.44", true), ("6.17.0", true), ("6.12.48", true), ("7.0.1", true),
        ("6.12.47", false), ("6.16.9", false), ("6.1.100", false), ("5.6.0", false), ("5.4.0", false),
    ])
    func acceptsOnlyKernelsWithTheDatapath(_ release: String, _ runs: Bool) throws {
        let version = try #require(KernelRequirements.Version(release: release))
        #expect((KernelRequirements.problem(with: version) == nil) == runs, "\(release)")
    }

    @Test func tooOldForConcatenatedIntervalsSaysSo() throws {
        let problem = try #require(KernelRequirements.problem(with: KernelRequirements.Version(5, 4)))
        #expect(problem.contains("concatenated interval sets"))
    }

    @Test func thisMachineRunsIt() throws {
        let version = try #require(KernelRequirements.running())
        #expect(KernelRequirements.problem(with: version) == nil, "\(version)")
    }
}
