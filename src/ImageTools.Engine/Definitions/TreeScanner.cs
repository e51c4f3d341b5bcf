using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Formats;
using ImageTools.Formats.Changelogs;
using ImageTools.Formats.Control;
using ImageTools.Formats.Dockerfiles;
using ImageTools.Formats.Templates;
using ImageTools.References;

namespace ImageTools.Definitions
{
    /// <summary>
    /// Finds the image directories under a root and reads each into an <see cref="ImageDefinition"/>.
    /// Two passes: names and versions first, because templates (<c>image_tag</c>) need every
    /// sibling's version before any Dockerfile can be rendered.
    /// </summary>
    internal static class TreeScanner
    {
        public const string DockerfileName = "Dockerfile";
        public const string TemplateName = "Dockerfile.template";
        public const string ChangelogName = "changelog";
        public const string ControlName = "control";
        public const string TestScriptName = "test.sh";
        public const string TestPowerShellScriptName = "test.ps1";

        public static ImageTree Scan(string root, CancellationToken cancellationToken = default)
        {
            var fullRoot = Path.GetFullPath(root);
            if (File.Exists(fullRoot) && Path.GetFileName(fullRoot) == DockerImagesList.FileName) return ScanImageList(fullRoot, cancellationToken);
            if (File.Exists(fullRoot))
                throw new ImageToolsException("TreeNotFound", FaultKind.ObjectNotFound,
                    "This is a file, not an image tree directory. Pass -Path with the directory that holds the image directories.",
                    fullRoot);
            if (!Directory.Exists(fullRoot)) throw TreeNotFound(fullRoot);

            var config = TreeConfig.Load(fullRoot);
            var directories = FindImageDirectories(fullRoot, cancellationToken);
            var errors = new ConcurrentBag<ImageToolsException>();
            var warnings = new ConcurrentBag<TreeWarning>();
            var options = new ParallelOptions { CancellationToken = cancellationToken };

            var read = new ConcurrentBag<ImageDefinition>();
            Parallel.ForEach(directories, options, directory =>
            {
                try { read.Add(ReadDefinition(directory, config, warnings)); }
                catch (ImageToolsException e) { errors.Add(e); }
            });
            return Complete(fullRoot, config, read, warnings, errors, options);
        }

        /// <summary>
        /// A tree described by docker_build's docker_images file (Get-ImageGraph -Path ./docker_images): each line
        /// an image, its name (and tag) from the file, its directory read like any image directory, its build options
        /// as image settings. Short names get docker_build's DOCKER_ACCOUNT (else the tree config's registry and namespace).
        /// </summary>
        private static ImageTree ScanImageList(string file, CancellationToken cancellationToken)
        {
            var root = Path.GetDirectoryName(file)!;
            var entries = DockerImagesList.Parse(ReadText(file, keepByteOrderMark: false), file);
            var config = TreeConfig.Load(root);
            var account = Environment.GetEnvironmentVariable("DOCKER_ACCOUNT") is { Length: > 0 } fromEnvironment ? fromEnvironment.TrimEnd('/')
                : config.Registry == null && config.Namespace == null ? null
                : string.Join("/", new[] { config.Registry, config.Namespace }.Where(p => p != null));
            var prefixes = entries.Select(e => e.Name.LastIndexOf('/') is var slash && slash > 0 ? e.Name.Substring(0, slash) : account)
                .Where(p => p != null).Distinct(StringComparer.Ordinal).ToList();
            if (prefixes.Count > 1)
                throw new ImageToolsException("ImageListMixedRepositories", FaultKind.InvalidData,
                    $"The images of {file} are published under {string.Join(", ", prefixes)}; ImageTools publishes one tree to one registry and namespace. " +
                    "Split the file, or use short names with one DOCKER_ACCOUNT.", file);
            if (prefixes.Count == 1)
            {
                var prefix = ImageReference.Parse(prefixes[0] + "/x");
                config = config.WithRepository(prefix.Registry ?? ImageReference.DockerHub, prefix.Repository.Length > 2 ? prefix.Repository.Substring(0, prefix.Repository.Length - 2) : null);
            }

            var errors = new ConcurrentBag<ImageToolsException>();
            var warnings = new ConcurrentBag<TreeWarning>();
            var options = new ParallelOptions { CancellationToken = cancellationToken };
            var read = new ConcurrentBag<ImageDefinition>();
            Parallel.ForEach(entries, options, entry =>
            {
                try { read.Add(ReadListedDefinition(entry, file, root, config, warnings)); }
                catch (ImageToolsException e) { errors.Add(e); }
            });
            return Complete(root, config, read, warnings, errors, options);
        }

        private static ImageDefinition ReadListedDefinition(DockerImagesEntry entry, string file, string root, TreeConfig config, ConcurrentBag<TreeWarning> warnings)
        {
            var name = entry.Name.Substring(entry.Name.LastIndexOf('/') + 1);
            var directory = Path.GetFullPath(Path.Combine(root, entry.Directory));
            if (!Directory.Exists(directory))
                throw new ImageToolsException("ImageListInvalid", FaultKind.ObjectNotFound,
                    $"The directory '{entry.Directory}' of {entry.Name} does not exist ({directory}). Fix the line or create the directory.", file, entry.Line, name);
            var image = ReadDefinition(directory, config, warnings, (name, entry.Tag, file, entry.Line));
            var platforms = new List<string>(image.Platforms);
            var buildArgs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in image.BuildArgs) buildArgs[pair.Key] = pair.Value;
            for (var i = 0; i < entry.Options.Count; i++)
            {
                var option = entry.Options[i];
                var optionLine = entry.OptionLines[i];
                var equals = option.IndexOf('=');
                var (key, value) = equals > 0 ? (option.Substring(0, equals), option.Substring(equals + 1))
                    : (option, i + 1 < entry.Options.Count && !entry.Options[i + 1].StartsWith("-", StringComparison.Ordinal) ? entry.Options[++i] : null);
                switch (key)
                {
                    case "--platform" when value != null:
                        platforms = value.Split(',').Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
                        break;
                    case "--build-arg" when value != null && value.IndexOf('=') > 0:
                        buildArgs[value.Substring(0, value.IndexOf('='))] = value.Substring(value.IndexOf('=') + 1);
                        break;
                    case "--target" when value != null:
                        image.Target = value;
                        break;
                    default:
                        throw new ImageToolsException("ImageListInvalid", FaultKind.InvalidData,
                            $"The build option '{option}' of {entry.Name} is not one ImageTools takes from a docker_images file " +
                            "(--platform, --build-arg NAME=VALUE, --target). Put other settings in the directory's image.yaml" +
                            (optionLine != entry.Line ? $" (the option is on line {optionLine}, a line of build options for the images after it)." : "."),
                            file, optionLine, name);
                }
            }
            image.Platforms = platforms;
            image.BuildArgs = buildArgs;
            return image;
        }

        /// <summary>The definitions read, checked together: names, Dockerfiles (templates rendered), warnings in file order.</summary>
        private static ImageTree Complete(string fullRoot, TreeConfig config, ConcurrentBag<ImageDefinition> read, ConcurrentBag<TreeWarning> warnings,
            ConcurrentBag<ImageToolsException> errors, ParallelOptions options)
        {
            ThrowIfAny(fullRoot, errors);

            var images = read.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
            RejectDuplicateNames(images, errors);
            ThrowIfAny(fullRoot, errors);

            var byName = images.ToDictionary(i => i.Name, StringComparer.Ordinal);
            // docker-pkg's image_tag: an image of the tree under its version, else a config base_images entry
            // of the same full name ([registry/][namespace/]name), with the tag it is written with.
            string? ResolveImageTag(string name)
            {
                if (byName.TryGetValue(name, out var image)) return ImageTree.RepositoryOf(config, name).WithTag(image.Tag).ToString();
                if (!ImageReference.IsValidRepository(name)) return null;
                var repository = ImageTree.RepositoryOf(config, name).Name;
                return config.BaseImages.FirstOrDefault(b => ImageReference.TryParse(b, out var known, out _) && known!.Tag != null && known.Name == repository);
            }
            var renderer = new TemplateRenderer(config.Variables, ResolveImageTag);
            var neutral = config.ProxyNeutralVariables == null ? null : new TemplateRenderer(config.ProxyNeutralVariables, ResolveImageTag);

            Parallel.ForEach(images, options, image =>
            {
                try { ReadDockerfile(image, renderer, neutral); }
                catch (ImageToolsException e) { errors.Add(e); }
            });
            ThrowIfAny(fullRoot, errors);

            var orderedWarnings = warnings.OrderBy(w => w.FilePath, StringComparer.Ordinal).ThenBy(w => w.Line).ToList();
            return new ImageTree(fullRoot, config, images, orderedWarnings);
        }

        /// <summary>The error for a tree root that does not exist, the same from every cmdlet.</summary>
        public static ImageToolsException TreeNotFound(string fullRoot, Exception? inner = null) =>
            new ImageToolsException("TreeNotFound", FaultKind.ObjectNotFound,
                "The image tree directory does not exist. Pass -Path with a directory that holds image directories.",
                fullRoot, inner: inner);

        /// <summary>
        /// Image names under <paramref name="root"/> for tab completion: best effort and quiet, so a
        /// half-edited tree still completes (a directory that fails to read offers its own name).
        /// </summary>
        public static IReadOnlyList<string> ListNames(string root)
        {
            try
            {
                var config = TreeConfig.Load(root);
                var warnings = new ConcurrentBag<TreeWarning>();
                return FindImageDirectories(Path.GetFullPath(root))
                    .Select(directory =>
                    {
                        try { return ReadDefinition(directory, config, warnings).Name; }
                        catch (ImageToolsException) { return Path.GetFileName(directory); }
                    })
                    .Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToList();
            }
            catch (Exception e) when (e is ImageToolsException || e is IOException || e is UnauthorizedAccessException)
            {
                return Array.Empty<string>();
            }
        }

        /// <summary>Directories holding a Dockerfile, a Dockerfile.template or an image.yaml; hidden ones are skipped.</summary>
        public static IReadOnlyList<string> FindImageDirectories(string root, CancellationToken cancellationToken = default)
        {
            var found = new List<string>();
            var pending = new Stack<DirectoryInfo>();
            pending.Push(new DirectoryInfo(root));
            while (pending.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var directory = pending.Pop();
                var isImage = false;
                foreach (var entry in directory.EnumerateFileSystemInfos())
                {
                    if (entry is DirectoryInfo child)
                    {
                        // Links could loop back up the tree; hidden folders hold VCS and tool state.
                        if (!child.Name.StartsWith(".", StringComparison.Ordinal) &&
                            (child.Attributes & FileAttributes.ReparsePoint) == 0)
                            pending.Push(child);
                    }
                    else if (entry.Name == DockerfileName || entry.Name == TemplateName || entry.Name == ImageSpec.FileName)
                    {
                        isImage = true;
                    }
                }
                if (isImage) found.Add(directory.FullName);
            }
            found.Sort(StringComparer.Ordinal);
            return found;
        }

        /// <summary>An image directory's definition; <paramref name="listed"/> is a docker_images line's name, tag, file and line, which name the image instead.</summary>
        private static ImageDefinition ReadDefinition(string directory, TreeConfig config, ConcurrentBag<TreeWarning> warnings,
            (string Name, string? Tag, string File, int Line)? listed = null)
        {
            var specPath = Path.Combine(directory, ImageSpec.FileName);
            var spec = File.Exists(specPath) ? ImageSpec.Load(specPath) : null;

            var changelogPath = Path.Combine(directory, ChangelogName);
            var changelog = File.Exists(changelogPath) ? DebianChangelog.Parse(ReadText(changelogPath, keepByteOrderMark: true), changelogPath) : null;

            var (name, nameSource) = listed != null ? (listed.Value.Name, NameSource.ImageList)
                : spec?.Name != null ? (spec.Name, NameSource.ImageYaml)
                : changelog != null ? (changelog.Latest.Package, NameSource.Changelog)
                : (Path.GetFileName(directory), NameSource.Directory);
            ValidateName(name, nameSource, directory, spec, changelogPath, listed == null ? null : (listed.Value.File, listed.Value.Line));

            var (version, versionSource) = listed?.Tag != null ? (listed.Value.Tag, VersionSource.ImageList)
                : changelog != null ? (changelog.Latest.Version, VersionSource.Changelog)
                : spec?.Version != null ? (spec.Version, VersionSource.ImageYaml)
                : ((string?)null, VersionSource.None);
            if (version != null)
                ValidateTag(version, versionSource == VersionSource.ImageList ? listed!.Value.File : versionSource == VersionSource.Changelog ? changelogPath : specPath,
                    versionSource == VersionSource.ImageList ? listed!.Value.Line : versionSource == VersionSource.Changelog ? changelog!.Latest.Line : (int?)null, name,
                    "Its version cannot be used as an image tag. Use letters, digits, '.', '_' and '-' only (at most 128).");

            var image = new ImageDefinition(name, nameSource, version, versionSource, directory)
            {
                Spec = spec,
                Changelog = changelog,
                ChangelogPath = changelog != null ? changelogPath : null,
            };
            LocateDockerfile(image, spec, warnings);
            image.ContextPath = spec?.Context != null ? Path.GetFullPath(Path.Combine(directory, spec.Context)) : directory;
            if (!Directory.Exists(image.ContextPath))
                throw new ImageToolsException("ContextNotFound", FaultKind.ObjectNotFound,
                    $"The build context '{spec!.Context}' does not exist ({image.ContextPath}). Fix 'context' or create the directory.",
                    specPath, spec.ContextLine, name);

            foreach (var tag in spec?.Tags ?? Array.Empty<string>())
                ValidateTag(tag, specPath, null, name, "An extra tag must be a valid image tag.");
            image.ExtraTags = spec?.Tags ?? Array.Empty<string>();
            image.BuildArgs = Dictionaries.Overlay(config.BuildArgs, spec?.BuildArgs);
            image.Labels = Dictionaries.Overlay(config.Labels, spec?.Labels);
            image.Target = spec?.Target;
            image.Platforms = spec?.Platforms ?? Array.Empty<string>();
            image.VerifyCommand = spec?.VerifyCommand;
            image.VerifyArgs = spec?.VerifyArgs;
            var testScript = Path.Combine(directory, TestScriptName);
            image.TestScriptPath = File.Exists(testScript) ? testScript : null;
            var testPowerShellScript = Path.Combine(directory, TestPowerShellScriptName);
            image.TestPowerShellScriptPath = File.Exists(testPowerShellScript) ? testPowerShellScript : null;
            image.DeclaredDependencies = ReadDeclaredDependencies(directory, spec, image);
            return image;
        }

        private static void LocateDockerfile(ImageDefinition image, ImageSpec? spec, ConcurrentBag<TreeWarning> warnings)
        {
            var directory = image.Directory;
            if (spec?.Dockerfile != null)
            {
                var path = Path.GetFullPath(Path.Combine(directory, spec.Dockerfile));
                if (!File.Exists(path))
                    throw new ImageToolsException("DockerfileNotFound", FaultKind.ObjectNotFound,
                        $"'dockerfile' points at {path}, which does not exist. Fix the path (relative to {directory}) or create the file.",
                        spec.FilePath, spec.DockerfileLine, image.Name);
                image.DockerfilePath = path;
                image.IsTemplate = path.EndsWith(".template", StringComparison.Ordinal);
                return;
            }
            var template = Path.Combine(directory, TemplateName);
            var plain = Path.Combine(directory, DockerfileName);
            if (File.Exists(template))
            {
                if (File.Exists(plain))
                    warnings.Add(new TreeWarning(
                        $"Both {DockerfileName} and {TemplateName} exist; the template is used (as docker-pkg does). Remove one to silence this.",
                        directory, imageName: image.Name));
                image.DockerfilePath = template;
                image.IsTemplate = true;
            }
            else if (File.Exists(plain))
            {
                image.DockerfilePath = plain;
            }
            else
            {
                throw new ImageToolsException("DockerfileNotFound", FaultKind.ObjectNotFound,
                    $"There is no {DockerfileName} or {TemplateName} here. Add one, or set 'dockerfile' in {ImageSpec.FileName}.",
                    spec?.FilePath ?? directory, imageName: image.Name);
            }
        }

        private static IReadOnlyList<DeclaredDependency> ReadDeclaredDependencies(string directory, ImageSpec? spec, ImageDefinition image)
        {
            var declared = new List<DeclaredDependency>();
            var controlPath = Path.Combine(directory, ControlName);
            if (File.Exists(controlPath))
            {
                image.ControlPath = controlPath;
                var control = ControlFile.Parse(ReadText(controlPath), controlPath);
                declared.AddRange(control.Dependencies.Select(d => new DeclaredDependency(d.Name, controlPath, d.Line)));
            }
            if (spec != null)
                declared.AddRange(spec.Depends.Select(name => new DeclaredDependency(name, spec.FilePath!, spec.DependsLine)));
            return declared;
        }

        /// <summary>Reads and renders the image's Dockerfile; <paramref name="neutral"/> (the renderer without proxy variables, null when no proxy is set) renders the text the inputs digest reads.</summary>
        private static void ReadDockerfile(ImageDefinition image, TemplateRenderer renderer, TemplateRenderer? neutral)
        {
            var source = ReadText(image.DockerfilePath);
            var text = image.IsTemplate ? renderer.Render(source, image.DockerfilePath) : source;
            image.DockerfileText = text;
            if (image.IsTemplate && neutral != null) image.InputsDockerfileText = neutral.Render(source, image.DockerfilePath);
            image.Dockerfile = DockerfileParser.Parse(text, image.DockerfilePath, image.BuildArgs);
            var built = image.Target == null ? image.Dockerfile.FinalStage : image.Dockerfile.FindStage(image.Target)
                ?? throw new ImageToolsException("UnknownTarget", FaultKind.InvalidData,
                    $"'target: {image.Target}' names no stage of {image.DockerfilePath}. Known stages: " +
                    $"{string.Join(", ", image.Dockerfile.Stages.Select(s => s.Alias ?? s.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)))}.",
                    image.Spec?.FilePath, image.Spec?.TargetLine, image.Name);
            var needed = new HashSet<ImageUse>(image.Dockerfile.ImageUsesFor(image.Target));
            image.ImageUses = image.Dockerfile.ImageUses.Where(u => u.StageIndex <= built.Index || needed.Contains(u)).ToList();
            image.FinalBase = image.Dockerfile.BaseImageOf(built);
        }

        private static void RejectDuplicateNames(IEnumerable<ImageDefinition> images, ConcurrentBag<ImageToolsException> errors)
        {
            foreach (var group in images.GroupBy(i => i.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                var places = string.Join(" and ", group.Select(i => i.Directory));
                errors.Add(new ImageToolsException("DuplicateImageName", FaultKind.ResourceExists,
                    $"Image name '{group.Key}' is claimed by {places}. Give one of them another name (image.yaml 'name' or its changelog).",
                    group.First().Directory, imageName: group.Key));
            }
        }

        private static void ValidateName(string name, NameSource source, string directory, ImageSpec? spec, string changelogPath, (string File, int Line)? listedAt = null)
        {
            var (file, line, fix) = source switch
            {
                NameSource.ImageList => (listedAt!.Value.File, (int?)listedAt.Value.Line, "Fix the name in the docker_images line"),
                NameSource.ImageYaml => (spec!.FilePath, (int?)spec.NameLine, "Fix 'name'"),
                NameSource.Changelog => (changelogPath, (int?)1, "Fix the package name in the top changelog entry"),
                _ => (directory, (int?)null, $"Rename the directory or set 'name' in {ImageSpec.FileName}"),
            };
            if (!ImageReference.TryParse(name, out var parsed, out var error) || parsed!.Registry != null || parsed.Tag != null || parsed.Digest != null)
                throw new ImageToolsException("InvalidImageName", FaultKind.InvalidData,
                    $"'{name}' is not a valid image name ({error ?? "it must be a repository path without registry, tag or digest"}). " +
                    $"Names are lower-case letters, digits and separators (. _ - /). {fix}.",
                    file, line, name);
        }

        private static void ValidateTag(string tag, string? file, int? line, string image, string advice)
        {
            if (!ImageReference.IsValidTag(tag))
                throw new ImageToolsException("InvalidTag", FaultKind.InvalidData, $"'{tag}' is not a valid tag. {advice}", file, line, image);
        }

        /// <param name="path">The file to read.</param>
        /// <param name="keepByteOrderMark">For files Update-ImageChangelog rewrites: their text must give back every byte.</param>
        private static string ReadText(string path, bool keepByteOrderMark = false)
        {
            try { return keepByteOrderMark ? new System.Text.UTF8Encoding(false).GetString(File.ReadAllBytes(path)) : File.ReadAllText(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ImageToolsException("FileUnreadable", FaultKind.ResourceUnavailable, $"Cannot read the file: {e.Message}", path, inner: e);
            }
        }

        private static void ThrowIfAny(string root, ConcurrentBag<ImageToolsException> errors)
        {
            if (errors.IsEmpty) return;
            var ordered = errors.OrderBy(e => e.FilePath, StringComparer.Ordinal).ThenBy(e => e.Line).ToList();
            throw new ImageTreeException(root, ordered);
        }
    }
}
