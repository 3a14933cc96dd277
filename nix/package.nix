# eka built from this repository's sources and `Cargo.lock` (no network during the
# build: every crate is pinned by `Cargo.lock`). The binary finds `git` and `nix` on its
# PATH at run time; they are wrapped in, so `nix run` works on a machine without them.
{ lib, rustPlatform, makeWrapper, git, nix }:

let
  manifest = (lib.importTOML ../Cargo.toml).workspace.package;
  # Only what the build reads: the crates, the lock and the Nix library it embeds.
  source = lib.cleanSourceWith {
    src = ../.;
    filter = path: type:
      let relative = lib.removePrefix (toString ../. + "/") (toString path);
      in !(lib.hasPrefix "target" relative || lib.hasPrefix "fuzz/libfuzzer/target" relative);
  };
in
rustPlatform.buildRustPackage {
  pname = "eka";
  inherit (manifest) version;
  src = source;
  cargoLock.lockFile = ../Cargo.lock;
  cargoBuildFlags = [ "--package" "eka" ];
  # The test suite needs git servers, sshd, lighttpd and a Nix store of its own; it runs
  # in CI (`scripts/test.sh`), not in the sandbox.
  doCheck = false;
  nativeBuildInputs = [ makeWrapper ];
  postInstall = ''
    wrapProgram $out/bin/eka --suffix PATH : ${lib.makeBinPath [ git nix ]}
  '';
  meta = {
    description = "A git-native package and atom manager";
    license = with lib.licenses; [ mit asl20 ];
    mainProgram = "eka";
  };
}
