"""The course: exercises, the environment check, the hackathon, samples and simulators."""
