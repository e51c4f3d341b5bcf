using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using ImageTools.Registry;
using ImageTools.Tests.Fakes;
using Xunit;

namespace ImageTools.Tests.Registry
{
    /// <summary>A credential helper that crashes is named as the component that failed, with the config that names it; the secret path is never echoed.</summary>
    public class CredentialHelperFaultTests : IDisposable
    {
        private readonly string _temp = Path.Combine(Path.GetTempPath(), "imagetools-helper-" + Guid.NewGuid().ToString("N"));

        public CredentialHelperFaultTests() => Directory.CreateDirectory(_temp);

        public void Dispose() => Directory.Delete(_temp, recursive: true);

        [UnixFact]
        public async Task A_credential_helper_that_crashes_is_a_warning_naming_the_helper_its_exit_code_and_the_config()
        {
            var bin = Path.Combine(_temp, "bin");
            Directory.CreateDirectory(bin);
            var helper = Path.Combine(bin, "docker-credential-imagetoolscrash");
            File.WriteAllText(helper, "#!/bin/sh\necho 'panic: keychain exploded' >&2\nexit 1\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.WriteAllText(Path.Combine(_temp, "config.json"), "{\"credsStore\":\"imagetoolscrash\"}");
            var progress = new RecordingProgress();

            var credential = await new DockerConfigCredentialSource(_temp, helperSearchPath: bin).GetAsync("127.0.0.1:5000", progress, default);

            Assert.Null(credential);
            var warning = Assert.Single(progress.Events, e => e.Kind == RegistryEventKind.Warning);
            Assert.Contains("The credential helper docker-credential-imagetoolscrash", warning.Message);
            // It may die before reading the registry name (a broken pipe) or after: either way the helper is named.
            Assert.True(warning.Message.Contains("failed (exit code 1) for 127.0.0.1:5000") || warning.Message.Contains("crashed before it read its input"), warning.Message);
            Assert.Contains(Path.Combine(_temp, "config.json"), warning.Message);
            Assert.Contains("pass -Credential", warning.Message);
            Assert.DoesNotContain("keychain exploded", string.Join("\n", progress.Messages));
        }
    }
}
