package org.fhiradapter.refval;

import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;

/** The few JSON strings this tool writes, by hand: no JSON library on the protocol path. */
final class Json {
  private Json() {}

  static String str(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  /**
   * A FHIR OperationOutcome of the messages: severity, details.text, expression (HAPI's FHIRPath location),
   * and the HL7 validator's message id and line/column in the standard OperationOutcome extensions.
   */
  static String outcome(Engine.Result r) {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"OperationOutcome\",\"issue\":[");
    boolean first = true;
    if (r.failure() != null) {
      b.append("{\"severity\":\"fatal\",\"code\":\"exception\",\"details\":{\"text\":")
          .append(str(r.failure())).append("}}");
      first = false;
    }
    for (SingleValidationMessage m : r.messages()) {
      if (!first) {
        b.append(',');
      }
      first = false;
      b.append("{\"extension\":[");
      b.append("{\"url\":\"http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id\",\"valueString\":")
          .append(str(m.getMessageId() == null ? "" : m.getMessageId())).append('}');
      if (m.getLocationLine() != null) {
        b.append(",{\"url\":\"http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line\",\"valueInteger\":")
            .append(m.getLocationLine()).append('}');
      }
      if (m.getLocationCol() != null) {
        b.append(",{\"url\":\"http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col\",\"valueInteger\":")
            .append(m.getLocationCol()).append('}');
      }
      b.append("],\"severity\":").append(str(severity(m.getSeverity())))
          .append(",\"code\":\"processing\",\"details\":{\"text\":").append(str(m.getMessage())).append('}');
      if (m.getLocationString() != null) {
        b.append(",\"expression\":[").append(str(m.getLocationString())).append(']');
      }
      b.append('}');
    }
    return b.append("]}").toString();
  }

  private static String severity(ResultSeverityEnum s) {
    return s == null ? "error" : s.getCode();
  }
}
