"""Read-side query functions: one named function per question, shared by pages, admin and exports."""
