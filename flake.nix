{
  description = "eka: a git-native atom manager; `lib` imports atoms locked in an atom.lock";

  # nixpkgs builds the binary and the development shell; `lib` uses builtins only and
  # never reads it (see docs/nix.md).
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forEachSystem = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      lib = import ./nix/lib;

      overlays.default = final: prev: {
        eka = final.callPackage ./nix/package.nix { };
      };

      packages = forEachSystem (pkgs: rec {
        eka = pkgs.callPackage ./nix/package.nix { };
        default = eka;
      });

      apps = forEachSystem (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.system}.default}/bin/eka";
        };
      });

      devShells = forEachSystem (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.system}.default ];
          # What `scripts/test.sh` needs: lints, the test runner, and the real servers
          # and tools the end-to-end tests drive.
          packages = with pkgs; [
            clippy
            rustfmt
            cargo-nextest
            git
            nix
            lighttpd
            openssh
            hyperfine
          ];
        };
      });
    };
}
