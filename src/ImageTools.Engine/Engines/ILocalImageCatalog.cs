using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace ImageTools.Engines
{
    /// <summary>What an engine holds locally, for pruning: kept apart from <see cref="IContainerEngine"/>, which builds and publishes need.</summary>
    internal interface ILocalImageCatalog
    {
        /// <summary>Every local tag of <paramref name="repository"/> (as the engine spells it), as <c>repository:tag</c>.</summary>
        Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken);
    }
}
