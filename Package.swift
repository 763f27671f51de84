// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "keycard",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "keycard", targets: ["keycard"]),
        .executable(name: "keycard-bench-nft", targets: ["KeycardBenchNft"]),
        .executable(name: "keycard-fuzz", targets: ["KeycardFuzz"]),
        .executable(name: "keycard-bench-controller", targets: ["KeycardBenchController"]),
        .executable(name: "keycard-bench-load", targets: ["KeycardBenchLoad"]),
        .executable(name: "keycard-bench-live", targets: ["KeycardBenchLive"]),
        .executable(name: "keycard-bench-mesh", targets: ["KeycardBenchMesh"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.1.0"),
    ],
    targets: [
        // Pure, under every other module: IPv4 addresses, CIDRs, address ranges, transport protocols, ports.
        .target(name: "KeycardValues"),
        // Pure: Kubernetes objects, selectors, the policy model and verdicts.
        .target(name: "KeycardModel", dependencies: ["KeycardValues"]),
        // Pure + Yams: scenario files with line numbers, validation, steps, model reports.
        .target(
            name: "KeycardScenario",
            dependencies: ["KeycardValues", "KeycardModel", .product(name: "Yams", package: "Yams")]
        ),
        // Pure: the value-typed nftables ruleset (tables, chains, sets, rules) and its nft text.
        .target(name: "KeycardRuleset", dependencies: ["KeycardValues"]),
        // Pure: the lab's topology plan (namespaces, links, addresses, routes) from pods and nodes.
        .target(name: "KeycardTopology", dependencies: ["KeycardValues"]),
        // Pure: the policy model compiled to a ruleset, per pod or per node.
        .target(name: "KeycardCompiler", dependencies: ["KeycardValues", "KeycardModel", "KeycardRuleset"]),
        // libnftnl + libmnl, with a shim header for the macros Swift cannot import.
        .systemLibrary(
            name: "CNetfilter",
            pkgConfig: "libnftnl",
            providers: [.apt(["libnftnl-dev", "libmnl-dev"])]
        ),
        // libnl-route-3: links, addresses and routes built as netlink messages (sent by KeycardKernel's transport).
        .systemLibrary(
            name: "CNetlinkRoute",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]
        ),
        // Prototypes and wrappers glibc hides behind _GNU_SOURCE (setns, unshare, ...), and libresolv queries.
        .target(name: "CLinuxShim", linkerSettings: [.linkedLibrary("resolv")]),
        // The only module with syscalls: namespaces, links/addresses/routes (libnl), nftables batches, sockets.
        .target(
            name: "KeycardKernel",
            dependencies: [
                "KeycardValues",
                "KeycardRuleset", "CNetfilter", "CNetlinkRoute", "CLinuxShim",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Lab lifecycle: bring-up, served ports, state, tear-down, policy reconcile.
        .target(
            name: "KeycardLab",
            dependencies: [
                "KeycardValues",
                "KeycardKernel", "KeycardTopology", "KeycardRuleset",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // ProbeRunner: model-backed and socket-backed; scans; a run's lab with its mesh data plane.
        .target(
            name: "KeycardProbe",
            dependencies: [
                "KeycardValues", "KeycardLab", "KeycardKernel", "KeycardScenario", "KeycardCompiler", "KeycardTopology", "KeycardModel",
                "KeycardMesh", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The mesh data plane: the lab CA and SVIDs, TLS 1.3 contexts, the ztunnel-style proxy (one per lab).
        .target(
            name: "KeycardMesh",
            dependencies: [
                "KeycardValues", "KeycardModel", "KeycardKernel", "KeycardRuleset", "CLinuxShim",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // The commands, one folder per noun, one file per verb.
        .target(
            name: "KeycardCommands",
            dependencies: [
                "KeycardValues",
                "KeycardModel", "KeycardScenario", "KeycardCompiler", "KeycardRuleset", "KeycardLab", "KeycardProbe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(name: "keycard", dependencies: ["KeycardCommands"]),

        // Test support shared by test targets and benchmarks: generated data, the built binary.
        .target(name: "KeycardTestSupport", dependencies: ["KeycardValues", "KeycardModel"], path: "Tests/KeycardTestSupport"),
        // Fuzz target for the scenario and manifest loader (scripts/fuzz); a plain build replays files.
        .executableTarget(name: "KeycardFuzz", dependencies: ["KeycardScenario"], path: "Fuzz/KeycardFuzz"),

        // Benchmarks (scripts/bench), apart from the product.
        // Lab bring-up/tear-down (scripts/bench-lab).
        .executableTarget(name: "KeycardBenchLab", dependencies: ["KeycardLab", "KeycardTopology"], path: "Benchmarks/KeycardBenchLab"),
        // The nftables netlink path vs `nft -f` of the same text (root, release build).
        .executableTarget(name: "KeycardBenchNft", dependencies: ["KeycardKernel", "KeycardRuleset"], path: "Benchmarks/KeycardBenchNft"),
        // ScenarioRun probe steps (9-pod model all-allow/all-deny, 50-pod rate), with and without drop evidence.
        .executableTarget(
            name: "KeycardBenchProbe", dependencies: ["KeycardProbe", "KeycardScenario"], path: "Benchmarks/KeycardBenchProbe"),
        // One policy change with 1,000 policies, and connection rate under 10 vs 10,000 (root, release).
        .executableTarget(
            name: "KeycardBenchController",
            dependencies: ["KeycardValues", "KeycardCompiler", "KeycardModel", "KeycardLab", "KeycardKernel", "KeycardRuleset"],
            path: "Benchmarks/KeycardBenchController"
        ),
        // The whole `keycard apply` command with 100 vs 1,000 policies in place, through the lab process and without it (root, release).
        // 48 cases of the 9-pod model in one `keycard run` with and without the shared lab; 1,000 pods, a million probe cells (root, release).
        .executableTarget(name: "KeycardBenchSuite", path: "Benchmarks/KeycardBenchSuite"),
        .executableTarget(
            name: "KeycardBenchMesh",
            dependencies: [
                "KeycardProbe", "KeycardScenario", "KeycardLab", "KeycardKernel", "KeycardModel", "KeycardValues", "KeycardTopology",
            ],
            path: "Benchmarks/KeycardBenchMesh"),
        .executableTarget(name: "KeycardBenchLive", dependencies: ["KeycardLab"], path: "Benchmarks/KeycardBenchLive"),
        // Loading a 10,000-NetworkPolicy kubectl dump vs Yams parsing the same text (no root).
        .executableTarget(
            name: "KeycardBenchLoad",
            dependencies: ["KeycardScenario", "KeycardModel", "KeycardTestSupport", .product(name: "Yams", package: "Yams")],
            path: "Benchmarks/KeycardBenchLoad"
        ),

        .testTarget(name: "KeycardValuesTests", dependencies: ["KeycardValues"]),
        .testTarget(name: "KeycardModelTests", dependencies: ["KeycardModel", "KeycardValues", "KeycardTestSupport"]),
        // Compiled rules vs the model; the Kubernetes fidelity table (docs/kubernetes-fidelity.md), row by row.
        .testTarget(
            name: "KeycardSemanticsTests",
            dependencies: ["KeycardValues", "KeycardModel", "KeycardCompiler", "KeycardRuleset", "KeycardScenario", "KeycardTestSupport"]),
        .testTarget(
            name: "KeycardScenarioTests",
            dependencies: ["KeycardValues", "KeycardScenario", "KeycardModel", "KeycardTestSupport"],
            exclude: ["HostileCorpus"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "KeycardCompilerTests",
            dependencies: ["KeycardTestSupport", "KeycardValues", "KeycardCompiler", "KeycardScenario", "KeycardRuleset"],
            resources: [.copy("Snapshots")]
        ),
        .testTarget(name: "KeycardRulesetTests", dependencies: ["KeycardTestSupport", "KeycardRuleset"], resources: [.copy("Snapshots")]),
        .testTarget(name: "KeycardTopologyTests", dependencies: ["KeycardValues", "KeycardTopology", "KeycardTestSupport"]),
        .testTarget(
            name: "KeycardKernelTests",
            dependencies: ["KeycardTestSupport", "KeycardValues", "KeycardKernel", "KeycardRuleset"],
            resources: [.copy("Golden")]
        ),
        .testTarget(
            name: "KeycardLabTests",
            dependencies: [
                "KeycardTestSupport", "KeycardValues", "KeycardLab", "KeycardTopology", "KeycardKernel", "KeycardCompiler", "KeycardModel",
                "KeycardRuleset",
            ]
        ),
        .testTarget(
            name: "KeycardCommandsTests",
            dependencies: ["KeycardTestSupport", "KeycardValues", "KeycardCommands", "KeycardScenario", "KeycardModel"],
            exclude: ["SARIF"]),
        .testTarget(
            name: "KeycardMeshTests",
            dependencies: [
                "KeycardTestSupport", "KeycardValues", "KeycardModel", "KeycardKernel", "KeycardMesh", "KeycardRuleset",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "KeycardProbeTests",
            dependencies: [
                "KeycardTestSupport", "KeycardValues",
                "KeycardProbe", "KeycardLab", "KeycardScenario", "KeycardCommands", "KeycardKernel", "KeycardCompiler", "KeycardModel",
                "KeycardTopology",
            ],
            exclude: ["Golden"]
        ),
    ]
)
