import KeycardModel
import KeycardValues
import Testing

/// `$(NAME)` expansion of `env` values and `command`/`args`, as the kubelet expands them
/// (third_party/forked/golang/expansion), and the bound keycard keeps it within: no value grows
/// past what execve takes (`ExecLimits.maximumStringBytes`).
struct ProgramEnvironmentExpansionTests {
    /// A pod whose container has `A0` = 64 bytes and `A1`...`A<levels>` each `$(A<n-1>)$(A<n-1>)`,
    /// running `sleep $(A<levels>)`: the API server accepts it; expanded in full `A<n>` would
    /// hold 64 x 2^n bytes.
    static func doubling(_ levels: Int) -> Pod {
        var pod = Pod(namespace: "default", name: "bomb")
        pod.commands = [["sleep", "$(A\(levels))"]]
        pod.environments = [
            [EnvironmentVariable(name: "A0", value: String(repeating: "x", count: 64))]
                + (1...levels).map { EnvironmentVariable(name: "A\($0)", value: "$(A\($0 - 1))$(A\($0 - 1))") }
        ]
        return pod
    }

    @Test func chainedReferencesStopGrowingPastTheKernelLimit() throws {
        let limit = ExecLimits.maximumStringBytes
        // 16 doublings are 4 MiB in full: cut, no value is more than a few bytes past the limit.
        let small = ProgramEnvironment.variables(of: Self.doubling(16), container: 0, podIP: nil, hostIP: nil, hostname: "bomb")
        let sizes = small.map(\.utf8.count)
        try #require(sizes.allSatisfy { $0 <= limit + 8 }, "\(sizes)")
        // Those the kernel takes are whole; those past the limit stay past it (exec fails, E2BIG).
        #expect(small.contains("A10=" + String(repeating: "x", count: 65_536)))
        #expect(small.filter { !ExecLimits.fits($0) }.map { $0.prefix { $0 != "=" } } == (11...16).map { "A\($0)" })
        // 40 doublings (the reviewer's pod, 64 x 2^40 bytes in full) end as quickly, as small.
        let bomb = Self.doubling(40)
        let environment = ProgramEnvironment.variables(
            of: bomb, container: 0, podIP: nil, hostIP: nil, hostname: "bomb", withRuntime: false)
        #expect(environment.allSatisfy { $0.utf8.count <= limit + 8 })
        let argv = ProgramEnvironment.expand(bomb.commands[0], with: environment)
        #expect(argv[0] == "sleep" && !ExecLimits.fits(argv[1]) && argv[1].utf8.count <= limit + 3)
    }

    /// Ordinary values expand as the kubelet's `Expand` does (cases of upstream expand_test.go).
    @Test func ordinaryValuesExpandAsTheKubeletDoes() {
        let environment = ["VAR_A=A", "VAR_B=B", "VAR_C=$(VAR_A)", "EMPTY="]
        let cases: [(String, String)] = [
            ("$(VAR_A)", "A"), ("___$(VAR_B)___", "___B___"), ("$(VAR_A)-$(VAR_B)", "A-B"), ("$(VAR_C)", "$(VAR_A)"),
            ("$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"), ("$$$$$$(VAR_A)", "$$$(VAR_A)"), ("$$$$$$$(VAR_A)", "$$$A"),
            ("$$", "$"), ("$", "$"), ("f00$", "f00$"), ("$VAR_A", "$VAR_A"), ("$(VAR_A", "$(VAR_A"), ("$(", "$("),
            ("$(UNKNOWN)", "$(UNKNOWN)"), ("$()", "$()"), ("$(EMPTY)x", "x"), ("$(VAR_$(VAR_A))", "$(VAR_$(VAR_A))"),
            ("é$(VAR_A)ü$é", "éAü$é"), ("$(VAR_A)$(VAR_B)$(VAR_A)", "ABA"), ("no dollar", "no dollar"),
        ]
        for (input, expected) in cases {
            #expect(ProgramEnvironment.expand([input], with: environment) == [expected], "\(input)")
        }
    }
}
