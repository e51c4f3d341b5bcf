using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;

namespace ImageTools.Isolation
{
    /// <summary>
    /// The load context over the module's <c>dependencies/</c> folder. Whatever lives there (the YAML
    /// reader, YamlDotNet) is loaded here, so another module's YamlDotNet in PowerShell's own context
    /// neither blocks ours nor is replaced by it. Everything else (the runtime, PowerShell, the
    /// engine) comes from the default context, so there is one engine and scripts can name its types.
    /// </summary>
    public sealed class DependencyLoadContext : AssemblyLoadContext
    {
        // One context per folder for the life of the process: PowerShell calls OnImport on every
        // import (and twice for nested modules), and a second context would load a second engine.
        private static readonly Dictionary<string, DependencyLoadContext> Contexts = new(StringComparer.Ordinal);

        private readonly string _directory;

        private DependencyLoadContext(string directory) : base("ImageTools", isCollectible: false) => _directory = directory;

        /// <summary>The folder this context loads from.</summary>
        public string Directory => _directory;

        /// <summary>
        /// Hooks the context that loaded <paramref name="requester"/> (the engine, in PowerShell's
        /// default context) so that the assemblies it references and that live in
        /// <paramref name="directory"/> (ImageTools.Yaml) are handed out from the isolated context.
        /// Only those: YamlDotNet is never handed to the default context, so other modules cannot see
        /// ours. Dispose the result to unhook (IModuleAssemblyCleanup.OnRemove).
        /// </summary>
        public static IDisposable Install(string directory, Assembly requester)
        {
            directory = Path.GetFullPath(directory);
            DependencyLoadContext context;
            lock (Contexts)
            {
                if (!Contexts.TryGetValue(directory, out context!)) Contexts[directory] = context = new DependencyLoadContext(directory);
            }
            var host = GetLoadContext(requester) ?? Default;
            var handedOut = new HashSet<string>(
                requester.GetReferencedAssemblies().Select(r => r.Name!).Where(name => context.PathOf(new AssemblyName(name)) != null),
                StringComparer.OrdinalIgnoreCase);
            return new Hook(host, context, handedOut);
        }

        /// <summary>The runtime's own folder (Microsoft.NETCore.App), whose assemblies PowerShell's context already serves.</summary>
        private static readonly string RuntimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;

        /// <inheritdoc/>
        protected override Assembly? Load(AssemblyName assemblyName)
        {
            // The netstandard2.0 packages of Docker.DotNet bring System.Text.Json, System.Memory and
            // the like for Windows PowerShell; on PowerShell 7 the runtime's newer copies serve, so
            // no second System.Text.Json is loaded and types pass between the two contexts.
            if (IsFrameworkAssembly(assemblyName)) return null;
            var path = PathOf(assemblyName);
            // null: the default context (runtime, PowerShell) provides it.
            return path == null ? null : LoadFromAssemblyPath(path);
        }

        /// <summary>True when the runtime itself carries <paramref name="requested"/> at its version or newer.</summary>
        internal static bool IsFrameworkAssembly(AssemblyName requested)
        {
            var name = requested.Name;
            if (string.IsNullOrEmpty(name) || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0) return false;
            var path = Path.Combine(RuntimeDirectory, name + ".dll");
            return File.Exists(path) && (requested.Version == null || AssemblyName.GetAssemblyName(path).Version >= requested.Version);
        }

        /// <summary>The file in the folder that satisfies <paramref name="requested"/>, or null.</summary>
        internal string? PathOf(AssemblyName requested)
        {
            var name = requested.Name;
            if (string.IsNullOrEmpty(name) || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name == typeof(DependencyLoadContext).Assembly.GetName().Name)
                return null;
            var path = Path.Combine(_directory, name + ".dll");
            if (!File.Exists(path)) return null;
            // A request for a newer version than the one shipped is not ours to answer: loading the
            // older one would fail later with a MissingMethodException instead of a clear load error.
            if (requested.Version != null && AssemblyName.GetAssemblyName(path).Version < requested.Version) return null;
            return path;
        }

        private sealed class Hook : IDisposable
        {
            private readonly AssemblyLoadContext _host;
            private readonly DependencyLoadContext _context;
            private readonly HashSet<string> _handedOut;

            public Hook(AssemblyLoadContext host, DependencyLoadContext context, HashSet<string> handedOut)
            {
                _host = host;
                _context = context;
                _handedOut = handedOut;
                _host.Resolving += Resolve;
            }

            private Assembly? Resolve(AssemblyLoadContext requester, AssemblyName name) =>
                name.Name != null && _handedOut.Contains(name.Name) && _context.PathOf(name) != null
                    ? _context.LoadFromAssemblyName(name)
                    : null;

            public void Dispose() => _host.Resolving -= Resolve;
        }
    }
}
