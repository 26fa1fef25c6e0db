# Homebrew formula for ecs-env, in tap layout (Formula/ecs-env.rb):
#
#   brew tap ecs-env/ecs-env https://github.com/ecs-env/ecs-env
#   brew install ecs-env
#
# It installs the prebuilt release archives (.github/workflows/release.yml). The version and
# the sha256 values below are placeholders in the repository; the release workflow renders
# this file for each tag with scripts/release/formula (from the release's SHA256SUMS) and
# attaches the result to the release as ecs-env.rb. Publishing a version to the tap means
# committing that attached file over this one (docs/install.md#homebrew).
class EcsEnv < Formula
  desc "Run a command with exactly the environment Amazon ECS would inject"
  homepage "https://github.com/ecs-env/ecs-env"
  version "@VERSION@"
  license any_of: ["MIT", "Apache-2.0"]

  on_macos do
    on_arm do
      url "https://github.com/ecs-env/ecs-env/releases/download/v#{version}/ecs-env-#{version}-aarch64-apple-darwin.tar.gz"
      sha256 "@SHA256_aarch64-apple-darwin@"
    end
    on_intel do
      url "https://github.com/ecs-env/ecs-env/releases/download/v#{version}/ecs-env-#{version}-x86_64-apple-darwin.tar.gz"
      sha256 "@SHA256_x86_64-apple-darwin@"
    end
  end

  on_linux do
    on_arm do
      url "https://github.com/ecs-env/ecs-env/releases/download/v#{version}/ecs-env-#{version}-aarch64-unknown-linux-musl.tar.gz"
      sha256 "@SHA256_aarch64-unknown-linux-musl@"
    end
    on_intel do
      url "https://github.com/ecs-env/ecs-env/releases/download/v#{version}/ecs-env-#{version}-x86_64-unknown-linux-musl.tar.gz"
      sha256 "@SHA256_x86_64-unknown-linux-musl@"
    end
  end

  def install
    # Each archive holds one directory, ecs-env-VERSION-TARGET/; Homebrew enters it.
    bin.install "ecs-env"
    generate_completions_from_executable(bin/"ecs-env", "completions")
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/ecs-env --version")
    (testpath/"task-definition.json").write <<~JSON
      {"containerDefinitions": [{"name": "app", "environment": [{"name": "GREETING", "value": "hello"}]}]}
    JSON
    assert_match "GREETING=hello",
      shell_output("#{bin}/ecs-env -f #{testpath}/task-definition.json --region us-east-1 -- env")
  end
end
