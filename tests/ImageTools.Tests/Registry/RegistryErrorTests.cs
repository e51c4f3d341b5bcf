using System;
using System.Net;
using System.Threading.Tasks;
using ImageTools.References;
using ImageTools.Registry;
using ImageTools.Tests.Fakes;
using Xunit;

namespace ImageTools.Tests.Registry
{
    /// <summary>Registry failures carry their cause by type (kind, status, error codes), so nobody has to read the message.</summary>
    public class RegistryErrorTests
    {
        [Theory]
        [InlineData(401, "Unauthorized", false)]
        [InlineData(403, "Denied", false)]
        [InlineData(404, "NotFound", false)]
        [InlineData(400, "Refused", false)]
        [InlineData(429, "RateLimited", true)]
        [InlineData(500, "ServerError", true)]
        [InlineData(503, "ServerError", true)]
        [InlineData(501, "Refused", false)]
        [InlineData(505, "Refused", false)]
        public void A_status_has_one_kind_and_only_transient_kinds_are_retried(int status, string kindName, bool transient)
        {
            var kind = Enum.Parse<RegistryFailureKind>(kindName);
            Assert.Equal(kind, RegistryErrors.KindOf((HttpStatusCode)status));
            Assert.Equal(transient, RegistryErrors.IsTransient((HttpStatusCode)status));
            Assert.Equal(transient, RegistryFailure.IsTransientKind(kind));
        }

        [Fact]
        public void Answers_that_are_not_failures_have_no_kind()
        {
            Assert.Null(RegistryErrors.KindOf(HttpStatusCode.OK));
            Assert.Null(RegistryErrors.KindOf(HttpStatusCode.Accepted));
            Assert.Null(RegistryErrors.KindOf(HttpStatusCode.TemporaryRedirect));
        }

        [Fact]
        public async Task A_denied_upload_is_typed_Denied_with_the_error_code_of_the_body()
        {
            var registry = new InMemoryRegistry();
            registry.RefuseUploadsTo("team/app");
            using var client = registry.Client();

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.UploadBlobAsync("team/app", new byte[] { 1, 2, 3 }));

            Assert.Equal("RegistryAccessDenied", error.ErrorId);
            var failure = RegistryFailure.Of(error);
            Assert.NotNull(failure);
            Assert.Equal(RegistryFailureKind.Denied, failure!.Kind);
            Assert.Equal(403, failure.Status);
            Assert.Equal(new[] { "DENIED" }, failure.ErrorCodes);
            Assert.False(failure.IsTransient);
        }

        [Fact]
        public async Task A_missing_blob_is_typed_NotFound()
        {
            using var client = new InMemoryRegistry().Client();

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetConfigAsync("team/app", Digests.Sha256(new byte[] { 9 })));

            var failure = RegistryFailure.Of(error)!;
            Assert.Equal(RegistryFailureKind.NotFound, failure.Kind);
            Assert.Equal(new[] { "BLOB_UNKNOWN" }, failure.ErrorCodes);
        }

        [Fact]
        public async Task A_registry_nobody_listens_for_is_typed_Unreachable_and_transient()
        {
            using var client = new RegistryClient($"127.0.0.1:{RegistryServer.FreePort()}",
                new RegistryClientOptions { Retry = RetryPolicy.None, Credentials = AnonymousCredentialSource.Instance });

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.PingAsync());

            Assert.Equal("RegistryUnreachable", error.ErrorId);
            var failure = RegistryFailure.Of(error)!;
            Assert.Equal(RegistryFailureKind.Unreachable, failure.Kind);
            Assert.True(failure.IsTransient);
            Assert.Null(failure.Status);
        }

        [Fact]
        public void Errors_from_elsewhere_have_no_registry_failure()
        {
            Assert.Null(RegistryFailure.Of(new ImageToolsException("Other", FaultKind.InvalidData, "not from a registry")));
            Assert.Null(RegistryFailure.Of(null));
        }
    }
}
