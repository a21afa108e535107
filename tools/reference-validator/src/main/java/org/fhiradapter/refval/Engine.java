package org.fhiradapter.refval;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.ValidationSupportContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import ca.uhn.fhir.util.VersionUtil;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationOptions;
import ca.uhn.fhir.validation.ValidationResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.NpmPackageValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.utilities.npm.NpmPackage;

/**
 * One validator per set of definitions. The base chain (R4 core + the packages given at start) is built
 * once; a request naming extra IG folders (the HL7 test cases' ig/ folders) gets its own chain, cached by
 * that set, so the core definitions are parsed once per process.
 */
final class Engine {
  /** The outcome of one validation: the HAPI messages in order. */
  record Result(List<SingleValidationMessage> messages, String failure) {
    boolean valid() {
      if (failure != null) {
        return false;
      }
      for (SingleValidationMessage m : messages) {
        if (m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL) {
          return false;
        }
      }
      return true;
    }

    String toJsonLine(String name) {
      return "{\"name\":" + Json.str(name) + ",\"valid\":" + valid() + ",\"outcome\":" + Json.outcome(this) + "}";
    }
  }

  private final FhirContext ctx = FhirContext.forR4();
  private final DefaultProfileValidationSupport core = new DefaultProfileValidationSupport(ctx);
  private final List<String> packages;
  private final List<String> baseIgs;
  private final Map<List<String>, Setup> setups = new HashMap<>();

  private record Setup(ValidationSupportChain chain, FhirValidator validator) {}

  Engine(List<String> packages, List<String> igs) throws IOException {
    this.packages = List.copyOf(packages);
    this.baseIgs = List.copyOf(igs);
    setup(List.of());
  }

  static String hapiVersion() {
    return VersionUtil.getVersion();
  }

  private synchronized Setup setup(List<String> extraIgs) throws IOException {
    Setup s = setups.get(extraIgs);
    if (s != null) {
      return s;
    }
    FilePackageSupport npm = new FilePackageSupport(ctx);
    for (String p : packages) {
      npm.load(Path.of(p));
    }
    for (String p : baseIgs) {
      npm.load(Path.of(p));
    }
    for (String p : extraIgs) {
      npm.load(Path.of(p));
    }
    // Order matters: our definitions first (they may override nothing in core, but are looked up
    // most), then R4 core, then the terminology services, then snapshot generation for differentials.
    ValidationSupportChain chain = new ValidationSupportChain(
        npm,
        core,
        new CommonCodeSystemsTerminologyService(ctx),
        new InMemoryTerminologyServerValidationSupport(ctx),
        new SnapshotGeneratingValidationSupport(ctx));
    FhirInstanceValidator module = new FhirInstanceValidator(chain);
    FhirValidator validator = ctx.newValidator();
    validator.registerValidatorModule(module);
    s = new Setup(chain, validator);
    // a bounded cache: the HL7 test cases bring ~40 distinct ig/ folders
    if (setups.size() > 64) {
      setups.clear();
    }
    setups.put(List.copyOf(extraIgs), s);
    return s;
  }

  /** Validate one resource (JSON text) against its claims and the given profiles. */
  Result validate(String json, List<String> profiles, List<String> extraIgs) {
    try {
      Setup s = setup(extraIgs);
      ValidationOptions options = new ValidationOptions();
      for (String p : profiles) {
        options.addProfile(p);
      }
      ValidationResult r = s.validator().validateWithResult(json, options);
      return new Result(r.getMessages(), null);
    } catch (Exception e) {
      return new Result(List.of(), e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  /** HAPI's snapshot of a StructureDefinition's differential (any snapshot given is dropped first). */
  String snapshot(String json, List<String> extraIgs) {
    try {
      Setup s = setup(extraIgs);
      IParser parser = ctx.newJsonParser().setParserErrorHandler(new LenientErrorHandler(false));
      StructureDefinition sd = parser.parseResource(StructureDefinition.class, json);
      sd.setSnapshot(null);
      IBaseResource out = s.chain().generateSnapshot(new ValidationSupportContext(s.chain()), sd,
          sd.getUrl(), null, sd.getName());
      if (out == null) {
        return "{\"error\":\"no snapshot generated\"}";
      }
      return "{\"snapshot\":" + ctx.newJsonParser().encodeResourceToString(out) + "}";
    } catch (Exception e) {
      return "{\"error\":" + Json.str(e.getClass().getSimpleName() + ": " + e.getMessage()) + "}";
    }
  }

  /** The first validation loads and converts most of R4 core; pay that before the "ready" line. */
  void warmUp() {
    validate("{\"resourceType\":\"Patient\",\"id\":\"warm-up\",\"active\":true}", List.of(), List.of());
    validate("{\"resourceType\":\"Encounter\",\"id\":\"warm-up\",\"status\":\"finished\","
        + "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\"}}",
        List.of(), List.of());
  }

  /**
   * NpmPackageValidationSupport, loaded from a package .tgz on disk or from a folder of JSON definitions
   * (HAPI's own class only reads packages from the classpath).
   */
  static final class FilePackageSupport extends NpmPackageValidationSupport {
    private final FhirContext ctx;

    FilePackageSupport(FhirContext ctx) {
      super(ctx);
      this.ctx = ctx;
    }

    void load(Path path) throws IOException {
      if (Files.isDirectory(path)) {
        try (Stream<Path> files = Files.walk(path)) {
          for (Path f : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
            if (f.getFileName().toString().equals("package.json")
                || f.getFileName().toString().equals(".index.json")) {
              continue;
            }
            add(Files.readString(f, StandardCharsets.UTF_8));
          }
        }
        return;
      }
      try (InputStream is = Files.newInputStream(path)) {
        NpmPackage pkg = NpmPackage.fromPackage(is);
        NpmPackage.NpmPackageFolder folder = pkg.getFolders().get("package");
        if (folder == null) {
          throw new IOException(path + ": no package/ folder");
        }
        for (String name : folder.listFiles()) {
          if (!name.endsWith(".json") || name.equals("package.json") || name.startsWith(".")) {
            continue;
          }
          add(new String(folder.fetchFile(name), StandardCharsets.UTF_8));
        }
      }
    }

    private void add(String json) {
      if (!json.contains("\"resourceType\"")) {
        return;
      }
      IParser parser = ctx.newJsonParser().setParserErrorHandler(new LenientErrorHandler(false));
      IBaseResource r;
      try {
        r = parser.parseResource(json);
      } catch (Exception e) {
        return; // not a resource (or not R4): the tests see the missing definition as an issue
      }
      String type = ctx.getResourceType(r);
      if (List.of("StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter").contains(type)) {
        addResource(r);
      }
    }
  }
}
