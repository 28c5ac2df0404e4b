"""The versioned privacy policy: current, history, differences, publishing, acknowledgement."""
